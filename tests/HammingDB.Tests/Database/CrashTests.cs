using System.Diagnostics;
using System.Text.Json;
using HammingDB.Cli;
using HammingDB.Kernels;
using HammingDB.Storage;
using HammingDB.Storage.Manifest;
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
        string hdb = typeof(HammingDB.Cli.Program).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "exec", hdb, "ingest", db, chunk, "--format", "hdbc", "--key-offset", keyOffset.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--progress", "json", "--batch-rows", "1000", "--seal-rows", "6000" })
        {
            start.ArgumentList.Add(arg);
        }
        long durable = 0;
        using var firstDurable = new ManualResetEventSlim();
        var errors = new System.Text.StringBuilder();
        using var child = new Process { StartInfo = start };
        child.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.StartsWith("{\"durable\":", StringComparison.Ordinal))
            {
                long value = JsonDocument.Parse(line).RootElement.GetProperty("durable").GetInt64();
                Assert.True(value >= Interlocked.Read(ref durable), $"durable went back: {line}");
                Interlocked.Exchange(ref durable, value);
                firstDurable.Set();
            }
        };
        child.ErrorDataReceived += (_, e) => errors.AppendLine(e.Data);
        child.Start();
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        if (afterFirst)
        {
            var waited = Stopwatch.StartNew();
            while (!firstDurable.Wait(10) && !child.HasExited && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
            }
        }
        bool exited = child.WaitForExit(delayMs);
        if (!exited)
        {
            child.Kill(entireProcessTree: true); // SIGKILL
        }
        child.WaitForExit();
        if (exited)
        {
            Assert.True(child.ExitCode == 0, $"hdb ingest failed ({child.ExitCode}): {errors}");
        }
        return (Interlocked.Read(ref durable), exited);
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
        var expected = rows.Select(r => new SearchResult<ulong>(r.Key, TestData.OracleDistance(r.Code, query)))
            .OrderBy(r => r.Distance).ThenBy(r => r.Key).Take(10).ToList();
        Assert.True(expected.SequenceEqual(items.Knn(query, 10)), $"kill {iteration}: kNN differs from brute force");

        // Recovery removed everything the manifest does not name.
        ManifestState manifest = ManifestStore.Read(PosixFileSystem.Instance, db) ?? throw new InvalidOperationException("no manifest");
        var named = new HashSet<string>(StringComparer.Ordinal) { FileNames.Lock, FileNames.Manifest, FileNames.Log(manifest.LogNumber) };
        foreach (SegmentState segment in manifest.Collections.SelectMany(c => c.Segments))
        {
            named.Add(FileNames.Segment(segment.FileNumber));
            if (segment.DeletionVersion > 0)
            {
                named.Add(FileNames.Deletions(segment.FileNumber, segment.DeletionVersion));
            }
        }
        string[] orphans = Directory.GetFiles(db).Select(Path.GetFileName).Where(f => !named.Contains(f!)).ToArray()!;
        Assert.True(orphans.Length == 0, $"kill {iteration}: orphan files after recovery: {string.Join(", ", orphans)}");
        return rows.Count;
    }
}
