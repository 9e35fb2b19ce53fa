using System.Globalization;
using System.Text.Json;
using HammingDB.Cli;
using HammingDB.Encoders;
using HammingDB.Encoders.Data;
using HammingDB.Kernels;
using HammingDB.Storage;

namespace HammingDB.Tests.Faults;

/// <summary>
/// The crash suites' workload on one database, step by step, each step an <c>hdb</c> child process that
/// may be killed (at a kill point or at a moment): ingest (durable batches, seals, background compaction,
/// upserts over sealed keys, so deletion bitmaps), delete, compact, train (an attachment switch) and
/// query. It keeps a model of the collection's rows, and <see cref="Verify"/> reopens the database and
/// checks it against the model and what the killed step had reported durable.
/// </summary>
internal sealed class KillWorkload
{
    /// <summary>Keys are drawn from [0, KeySpace): later steps overwrite and delete earlier rows.</summary>
    public const int KeySpace = 12_000;

    /// <summary>Rows per ingest step, rows per durable batch, rows per seal.</summary>
    public const int IngestRows = 3_000, BatchRows = 250, SealRows = 500;

    /// <summary>The steps of one pass, in the order that reaches every kill point.</summary>
    public static readonly Step[] Pass = [Step.Ingest, Step.Delete, Step.Compact, Step.Train];

    private readonly string _dir;
    private readonly Random _random;
    private Dictionary<ulong, ulong> _model = [];
    private Pending? _pending;

    public KillWorkload(string directory, int seed)
    {
        _dir = directory;
        _random = new Random(seed);
        Db = Path.Combine(directory, "db");
        using HammingDatabase created = HammingDatabase.Open(Db);
        created.CreateCollection<ulong>("default", new CollectionOptions { CodeBits = 64 });
    }

    /// <summary>
    /// Fills the database in this process, so that one pass reaches every point: half the key space in sealed
    /// segments (an ingest's upserts then supersede sealed rows: deletion bitmaps), and collection vec with an
    /// encoder (train then replaces it).
    /// </summary>
    public void Prefill()
    {
        using HammingDatabase db = HammingDatabase.Open(Db);
        HammingCollection<ulong> items = db.GetCollection<ulong>("default");
        for (ulong start = 0; start < KeySpace / 2; start += 1000)
        {
            CollectionBatch<ulong> batch = items.NewBatch();
            for (ulong key = start; key < start + 1000; key++)
            {
                ulong code = (ulong)_random.NextInt64();
                batch.Upsert(key, [code]);
                _model[key] = code;
            }
            items.Apply(batch);
            db.Flush();
        }
        var vectors = new float[64 * 8];
        for (int i = 0; i < vectors.Length; i++)
        {
            vectors[i] = (float)(_random.NextDouble() * 2 - 1);
        }
        VectorCollection.Create<ulong>(db, "vec", EncoderTraining.Train(new EncoderSpec(EncoderKind.Lsh, 64), new TrainingSet(vectors, 8)));
    }

    public enum Step
    {
        Ingest,
        Delete,
        Compact,
        Train,
        Query,
    }

    public string Db { get; }

    /// <summary>Rows in the model (what the database held at the last verification).</summary>
    public int Rows => _model.Count;

    /// <summary>Queries compared with brute force so far (through the API and hdb query).</summary>
    public long QueriesCompared { get; private set; }

    /// <summary>How a step ended.</summary>
    /// <param name="Finished">It exited 0 having printed its final line.</param>
    /// <param name="KilledAtPoint">It died of SIGKILL at the kill point it was armed for.</param>
    /// <param name="KilledByTimer">It was SIGKILLed at a moment (it had not exited by then).</param>
    /// <param name="Trace">The kill points it hit, in order (with <c>KILL NAME</c> last when it died at one).</param>
    public sealed record Outcome(Step Step, bool Finished, bool KilledAtPoint, bool KilledByTimer, IReadOnlyList<string> Trace, string Detail)
    {
        public long Hits(string point) => Trace.Count(t => t == point);
    }

    /// <summary>
    /// Runs <paramref name="step"/> as a child, armed at the <paramref name="at"/>-th hit of <paramref name="point"/>
    /// (none: unarmed, but still traced) or killed <paramref name="killAfterMs"/> after its start. Asserts that it either
    /// finished or died of SIGKILL as arranged, and nothing else.
    /// </summary>
    public Outcome Run(Step step, string? point = null, long at = 1, int? killAfterMs = null)
    {
        Assert.True(_pending is null, "verify before the next step");
        string trace = Path.Combine(_dir, "trace");
        File.Delete(trace);
        var environment = new Dictionary<string, string> { ["HAMMINGDB_KILL_TRACE"] = trace };
        if (point is not null)
        {
            Assert.True(KillPoints.All.ContainsKey(point), $"unknown kill point {point}");
            environment["HAMMINGDB_KILL_POINT"] = point;
            environment["HAMMINGDB_KILL_AT"] = at.ToString(CultureInfo.InvariantCulture);
        }
        long durable = 0;
        (string[] args, Func<IReadOnlyList<string>, bool> finished, Pending? pending) = Prepare(step);
        CrashHarness.Child child = CrashHarness.RunHdb(args, environment, line =>
        {
            if (line.StartsWith("{\"durable\":", StringComparison.Ordinal))
            {
                long value = JsonDocument.Parse(line).RootElement.GetProperty("durable").GetInt64();
                Assert.True(value >= Interlocked.Read(ref durable), $"durable went back: {line}");
                Interlocked.Exchange(ref durable, value);
            }
        }, killAfterMs);
        string[] traced = File.Exists(trace) ? File.ReadAllLines(trace) : [];
        bool killedAtPoint = point is not null && traced.Contains($"KILL {point}");
        bool done = child.ExitCode == 0 && !child.KilledByTimer && finished(child.Stdout);
        string detail = $"{step}: exit {child.ExitCode}{(child.KilledByTimer ? " (killed at a moment)" : "")}{(killedAtPoint ? $" (killed at {point} #{at})" : "")}";
        if (!done)
        {
            Assert.True(child.DiedOfSigkill && (killedAtPoint || child.KilledByTimer),
                $"{detail}: neither finished nor died of SIGKILL as arranged. stderr: {child.Stderr}\nstdout: {string.Join('\n', child.Stdout)}");
        }
        if (killedAtPoint)
        {
            Assert.True(child.DiedOfSigkill && !done && traced[^1] == $"KILL {point}", $"{detail}: armed at {point} but did not die there");
        }
        _pending = pending switch
        {
            IngestPending ingest => ingest with { Durable = Interlocked.Read(ref durable), Finished = done },
            // Acknowledged once it printed its count (the close that follows may still be killed).
            DeletePending delete => delete with { Acknowledged = child.Stdout.Any(l => l.StartsWith("{\"deleted\":", StringComparison.Ordinal)) },
            QueryPending query => query with { Output = done ? child.Stdout : null },
            _ => new Pending(),
        };
        return new Outcome(step, done, killedAtPoint, child.KilledByTimer, traced, detail);
    }

    // The child's arguments, how to tell it finished from its output, and what the step may change.
    private (string[] Args, Func<IReadOnlyList<string>, bool> Finished, Pending? Pending) Prepare(Step step)
    {
        static Func<IReadOnlyList<string>, bool> LastStarts(string prefix) => lines => lines.Count > 0 && lines[^1].StartsWith(prefix, StringComparison.Ordinal);
        switch (step)
        {
            case Step.Ingest:
            {
                ulong offset = (ulong)_random.Next(KeySpace - IngestRows + 1);
                var codes = new ulong[IngestRows];
                var layout = new CodeLayout(64);
                var packed = new PackedCodes(layout, IngestRows);
                List<ulong> pool = _model.Values.ToList();
                for (int i = 0; i < IngestRows; i++)
                {
                    // A quarter repeat a stored code (ties); none equals its key's code before, so a reopen tells old from new.
                    ulong code = _random.Next(4) == 0 && pool.Count > 0 ? pool[_random.Next(pool.Count)] : (ulong)_random.NextInt64();
                    if (_model.TryGetValue(offset + (ulong)i, out ulong old) && old == code)
                    {
                        code ^= 1;
                    }
                    codes[i] = code;
                    packed.Add([code]);
                }
                string file = Path.Combine(_dir, "chunk.hdbc");
                HdbcFile.Write(file, packed);
                return (["ingest", Db, file, "--format", "hdbc", "--key-offset", offset.ToString(CultureInfo.InvariantCulture), "--progress", "json",
                         "--batch-rows", $"{BatchRows}", "--seal-rows", $"{SealRows}"], LastStarts("{\"ingested\":"), new IngestPending(offset, codes, 0, false));
            }
            case Step.Delete:
            {
                ulong[] keys = Enumerable.Range(0, 100).Select(_ => (ulong)_random.Next(KeySpace)).Distinct().ToArray();
                string file = Path.Combine(_dir, "keys.txt");
                File.WriteAllLines(file, keys.Select(k => k.ToString(CultureInfo.InvariantCulture)));
                return (["delete", Db, "--keys-file", file], LastStarts("{\"deleted\":"), new DeletePending(keys, false));
            }
            case Step.Compact:
                return (["compact", Db], LastStarts("{\"seconds\":"), null);
            case Step.Train:
            {
                const int rows = 64, dimension = 8;
                var values = new float[rows * dimension];
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = (float)(_random.NextDouble() * 2 - 1);
                }
                string file = Path.Combine(_dir, "train.hdbf");
                using (FileStream stream = File.Create(file))
                {
                    DatasetFiles.WriteHdbf(stream, values, dimension);
                }
                return (["train", Db, "--collection", "vec", "--method", "lsh", "--bits", "64", "--input", file, "--seed", $"{_random.Next(1000)}"],
                        LastStarts("{\"trained\":"), null);
            }
            case Step.Query:
            {
                ulong[] queries = Enumerable.Range(0, 8).Select(_ => QueryCode()).ToArray();
                string file = Path.Combine(_dir, "queries.hex");
                File.WriteAllLines(file, queries.Select(q => Convert.ToHexString(BitConverter.GetBytes(q))));
                return (["query", Db, file, "--format", "hex", "--k", "10"], lines => lines.Count == queries.Length, new QueryPending(queries, null));
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(step));
        }
    }

    // A stored code with a few bits flipped, or a random one.
    private ulong QueryCode()
    {
        if (_model.Count == 0 || _random.Next(3) == 0)
        {
            return (ulong)_random.NextInt64();
        }
        ulong code = _model.ElementAt(_random.Next(_model.Count)).Value;
        for (int flips = _random.Next(4); flips > 0; flips--)
        {
            code ^= 1UL << _random.Next(64);
        }
        return code;
    }

    /// <summary>
    /// Opens the database after the last step and checks: no orphan file; the collection's rows (no duplicate
    /// key) are the model's, changed only as the step may have changed them (an ingest: every row reported
    /// durable is there with its new code, the new rows form a prefix of whole batches; a delete: all its keys
    /// gone or none, all when it finished); kNN and radius queries equal brute force; then
    /// <see cref="HammingDatabase.Check(string)"/> finds nothing. The model becomes what is there.
    /// </summary>
    public void Verify(string context)
    {
        Pending pending = _pending ?? new Pending();
        _pending = null;
        Dictionary<ulong, ulong> actual;
        // Closed without a seal: what was recovered from the log stays there, for the next step's open to replay.
        using (HammingDatabase db = HammingDatabase.Open(Db, DatabaseOptions.Default with { SealOnClose = false }))
        {
            CrashHarness.AssertNoOrphans(Db, context);
            HammingCollection<ulong> items = db.GetCollection<ulong>("default");
            List<StoredRow<ulong>> rows = items.EnumerateRows().ToList();
            actual = [];
            foreach (StoredRow<ulong> row in rows)
            {
                Assert.True(actual.TryAdd(row.Key, row.Code[0]), $"{context}: key {row.Key} appears twice");
            }
            Assert.True(items.Count == rows.Count, $"{context}: Count {items.Count}, {rows.Count} rows enumerated");
            if (db.Collections.Any(c => c.Name == "vec"))
            {
                Assert.True(db.GetCollection<ulong>("vec").Count == 0, $"{context}: collection vec has rows");
            }
            CheckChanges(pending, actual, context);

            var all = actual.Select(e => (e.Key, new[] { e.Value })).ToList();
            for (int q = 0; q < 2; q++)
            {
                ulong[] query = [QueryCode()];
                Assert.True(CrashHarness.BruteForceKnn(all, query, 10).SequenceEqual(items.Knn(query, 10)), $"{context}: kNN of {query[0]:x16} differs from brute force");
                int radius = _random.Next(4, 24);
                Assert.True(CrashHarness.BruteForceRadius(all, query, radius).SequenceEqual(items.Radius(query, radius)),
                    $"{context}: radius {radius} of {query[0]:x16} differs from brute force");
                QueriesCompared += 2;
            }
            if (pending is QueryPending { Output: { } output } asked)
            {
                // hdb query ran on this very state (a query changes nothing): its answers equal brute force too.
                for (int q = 0; q < asked.Queries.Length; q++)
                {
                    JsonElement results = JsonDocument.Parse(output[q]).RootElement.GetProperty("results");
                    var got = results.EnumerateArray().Select(r => new SearchResult<ulong>(r.GetProperty("key").GetUInt64(), r.GetProperty("distance").GetInt32())).ToList();
                    Assert.True(CrashHarness.BruteForceKnn(all, [asked.Queries[q]], 10).SequenceEqual(got), $"{context}: hdb query {q} differs from brute force");
                    QueriesCompared++;
                }
            }
        }
        CheckReport report = HammingDatabase.Check(Db);
        Assert.True(report.Problems.Count == 0, $"{context}: check found {string.Join("; ", report.Problems)}");
        _model = actual;
    }

    private void CheckChanges(Pending pending, Dictionary<ulong, ulong> actual, string context)
    {
        HashSet<ulong> touched = pending switch
        {
            IngestPending ingest => Enumerable.Range(0, ingest.Codes.Length).Select(i => ingest.Offset + (ulong)i).ToHashSet(),
            DeletePending delete => [.. delete.Keys],
            _ => [],
        };
        foreach (ulong key in _model.Keys.Union(actual.Keys).Where(k => !touched.Contains(k)))
        {
            bool had = _model.TryGetValue(key, out ulong before), has = actual.TryGetValue(key, out ulong now);
            Assert.True(had == has && before == now,
                $"{context}: key {key}, untouched by the step, was {(had ? $"{before:x16}" : "absent")} and is {(has ? $"{now:x16}" : "absent")}");
        }
        if (pending is IngestPending { } written)
        {
            int prefix = 0;
            while (prefix < written.Codes.Length && actual.TryGetValue(written.Offset + (ulong)prefix, out ulong code) && code == written.Codes[prefix])
            {
                prefix++;
            }
            for (int i = prefix; i < written.Codes.Length; i++)
            {
                ulong key = written.Offset + (ulong)i;
                bool had = _model.TryGetValue(key, out ulong before), has = actual.TryGetValue(key, out ulong now);
                Assert.True(had == has && before == now,
                    $"{context}: ingest row {i} (key {key}) past the new prefix of {prefix} rows is neither as written nor as before");
            }
            Assert.True(prefix >= written.Durable, $"{context}: {written.Durable} rows were reported durable, {prefix} are present");
            Assert.True(prefix % BatchRows == 0 || prefix == written.Codes.Length, $"{context}: {prefix} rows present: not whole batches of {BatchRows}");
            Assert.True(!written.Finished || prefix == written.Codes.Length, $"{context}: the ingest finished, but only {prefix} of {written.Codes.Length} rows are present");
        }
        if (pending is DeletePending { } deleted)
        {
            ulong[] existed = deleted.Keys.Where(_model.ContainsKey).ToArray();
            int gone = existed.Count(k => !actual.ContainsKey(k));
            Assert.True(deleted.Keys.All(k => !actual.ContainsKey(k) || (_model.TryGetValue(k, out ulong before) && actual[k] == before)),
                $"{context}: a deleted key came back with another code");
            Assert.True(gone == 0 || gone == existed.Length, $"{context}: {gone} of {existed.Length} keys of one delete batch are gone: not all or nothing");
            Assert.True(!deleted.Acknowledged || gone == existed.Length, $"{context}: the delete was acknowledged, but {existed.Length - gone} of its {existed.Length} keys remain");
        }
    }

    private record Pending;

    private sealed record IngestPending(ulong Offset, ulong[] Codes, long Durable, bool Finished) : Pending;

    private sealed record DeletePending(ulong[] Keys, bool Acknowledged) : Pending;

    private sealed record QueryPending(ulong[] Queries, IReadOnlyList<string>? Output) : Pending;
}
