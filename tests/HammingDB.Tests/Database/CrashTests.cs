using System.Text.Json;
using HammingDB.Cli;
using HammingDB.Kernels;
using HammingDB.Tests.Faults;
using Xunit.Abstractions;

namespace HammingDB.Tests.Database;

/// <summary>
/// A child process (<c>hdb ingest</c>, sealing and compacting in the background) is killed with
/// SIGKILL at a random moment, again and again on the same database. After each kill the database
/// opens, holds every row the child reported durable, and its rows form a gap-free prefix of what
/// was written (no duplicates, codes as written); a query equals brute force; no orphan file stays.
/// </summary>
public sealed class CrashTests(ITestOutputHelper output) : IDisposable
{
    private const int ChunkRows = 40_000;
    private readonly string _dir = Directory.CreateTempSubdirectory("hdb-crash-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Killed_ingests_keep_every_acknowledged_row_as_a_gap_free_prefix()
    {
        const int seed = 4242;
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("HAMMINGDB_CRASH_ITERATIONS"), out int n) ? n : 50;
        output.WriteLine($"seed {seed}, {iterations} kills");
        var random = new Random(seed);
        var layout = new CodeLayout(64);
        var all = new List<ulong>();
        string db = Path.Combine(_dir, "db");
        using (HammingDatabase created = HammingDatabase.Open(db))
        {
            created.CreateCollection<ulong>("default", new CollectionOptions { CodeBits = 64 });
        }

        long present = 0;
        int killedMidway = 0;
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            // The next rows to write: keys present, present + 1, ...; some codes repeat, for ties.
            while (all.Count < present + ChunkRows)
            {
                all.Add(random.Next(4) == 0 && all.Count > 0 ? all[random.Next(all.Count)] : (ulong)random.NextInt64());
            }
            string chunk = Path.Combine(_dir, "chunk.hdbc");
            var codes = new PackedCodes(layout, ChunkRows);
            for (int i = 0; i < ChunkRows; i++)
            {
                codes.Add([all[(int)present + i]]);
            }
            HdbcFile.Write(chunk, codes);

            // Most kills land while batches are being written (some time after the first durable one),
            // the others at any moment from the start (opening, recovering, checking the input).
            bool afterFirst = random.Next(5) != 0;
            int delayMs = afterFirst ? random.Next(0, 500) : random.Next(0, 800);
            (long durable, bool exited) = IngestAndKill(db, chunk, present, afterFirst, delayMs);
            killedMidway += exited ? 0 : 1;

            long rows = Verify(db, all, present + durable, random, iteration);
            output.WriteLine($"kill {iteration}: {delayMs} ms after {(afterFirst ? "the first durable batch" : "the start")}{(exited ? " (had finished)" : "")}: " +
                             $"{durable} reported durable, {rows - present} rows present");
            present = rows;
        }
        output.WriteLine($"{killedMidway} of {iterations} children killed mid-ingest; {present} rows at the end");
        Assert.True(killedMidway >= iterations / 2, $"only {killedMidway} of {iterations} children were killed before they finished");
    }

    // Runs hdb ingest in a child process and SIGKILLs it delayMs after the start or after its first durable
    // batch; returns the last durable count it printed.
    private static (long Durable, bool Exited) IngestAndKill(string db, string chunk, long keyOffset, bool afterFirst, int delayMs)
    {
        long durable = 0;
        using var firstDurable = new ManualResetEventSlim();
        CrashHarness.Child child = CrashHarness.RunHdb(
            ["ingest", db, chunk, "--format", "hdbc", "--key-offset", keyOffset.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--progress", "json", "--batch-rows", "1000", "--seal-rows", "6000"],
            onLine: line =>
            {
                if (line.StartsWith("{\"durable\":", StringComparison.Ordinal))
                {
                    long value = JsonDocument.Parse(line).RootElement.GetProperty("durable").GetInt64();
                    Assert.True(value >= Interlocked.Read(ref durable), $"durable went back: {line}");
                    Interlocked.Exchange(ref durable, value);
                    firstDurable.Set();
                }
            },
            killAfterMs: delayMs, killClockStarts: afterFirst ? firstDurable : null);
        if (!child.KilledByTimer)
        {
            Assert.True(child.ExitCode == 0, $"hdb ingest failed ({child.ExitCode}): {child.Stderr}");
        }
        return (Interlocked.Read(ref durable), !child.KilledByTimer);
    }

    // Opens the database after the kill and checks it; returns the rows present.
    private static long Verify(string db, List<ulong> all, long acknowledged, Random random, int iteration)
    {
        using HammingDatabase opened = HammingDatabase.Open(db);
        HammingCollection<ulong> items = opened.GetCollection<ulong>("default");
        List<StoredRow<ulong>> rows = items.EnumerateRows().ToList();
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.True(rows[i].Key == (ulong)i, $"kill {iteration}: row {i} has key {rows[i].Key}: not a gap-free prefix");
            Assert.True(rows[i].Code[0] == all[i], $"kill {iteration}: key {i} has another code than written");
        }
        Assert.True(rows.Count >= acknowledged, $"kill {iteration}: {acknowledged} rows were acknowledged, {rows.Count} present");
        Assert.Equal(rows.Count, items.Count);

        ulong[] query = [random.Next(2) == 0 && rows.Count > 0 ? all[random.Next(rows.Count)] : (ulong)random.NextInt64()];
        List<SearchResult<ulong>> expected = CrashHarness.BruteForceKnn(rows.Select(r => (r.Key, r.Code)), query, 10);
        Assert.True(expected.SequenceEqual(items.Knn(query, 10)), $"kill {iteration}: kNN differs from brute force");

        // Recovery removed everything the manifest does not name.
        CrashHarness.AssertNoOrphans(db, $"kill {iteration}");
        return rows.Count;
    }
}
