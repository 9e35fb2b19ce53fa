using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using HammingDB.Kernels;
using HammingDB.Storage;
using HammingDB.Storage.Keys;
using Xunit.Abstractions;

namespace HammingDB.Tests.Faults;

/// <summary>
/// Readers on eight threads against one writer, seals and compactions (background and explicit) on a
/// real on-disk database, for a fixed time. The writer keeps the history of acknowledged operations;
/// every answer must equal brute force over the state after one operation v in [v0, v1], where v0 is
/// the count acknowledged before the query was issued and v1 the count started when it returned
/// (one v for every row of the answer, and for every query of a batch).
/// </summary>
public class ConcurrencyTests(ITestOutputHelper output) : IDisposable
{
    private const int Readers = 8;
    private const int KeySpace = 4000;
    private const int Preloaded = 3000;
    private const int PoolSize = 48;
    private const int DefaultSeconds = 12;
    private const int Seed = 20261123;

    private readonly string _dir = Path.Combine(Directory.CreateTempSubdirectory("hdb-concurrency-").FullName, "db");

    public void Dispose()
    {
        Directory.Delete(Path.GetDirectoryName(_dir)!, recursive: true);
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void Eight_readers_see_one_acknowledged_snapshot_while_a_writer_seals_and_compactions_run()
    {
        int seconds = RunSeconds();
        output.WriteLine($"seed {Seed}, {seconds} s ({nameof(RunSeconds)}: env HAMMINGDB_CONCURRENCY_SECONDS), {Readers} readers");
        var fs = new CountingFileSystem();
        var options = new DatabaseOptions { SealRows = 64, MihMinRows = 48, CompactionMinSegments = 2, BackgroundCompaction = true };
        var failures = new ConcurrentQueue<string>();
        var errors = new ConcurrentQueue<Exception>();
        long compactions = 0, explicitCompactions = 0;
        Subject[] subjects;
        using (HammingDatabase db = HammingDatabase.Open(fs, _dir, options, new FasterKeyIndexStore(Path.Combine(_dir, "keyindex"))))
        {
            db.AfterCompactionMerge = () => Interlocked.Increment(ref compactions);
            var random = new Random(Seed);
            subjects = [new Subject(db.CreateCollection<ulong>("narrow", new CollectionOptions { CodeBits = 64 }), random),
                new Subject(db.CreateCollection<ulong>("wide", new CollectionOptions { CodeBits = 192 }), random)];
            foreach (Subject subject in subjects)
            {
                subject.Preload(random);
            }
            int sealsBefore = fs.LogsCreated;
            using var stop = new CancellationTokenSource();
            var threads = new List<Thread>
            {
                Start("writer", () => Writer(subjects, new Random(Seed + 1), stop.Token), errors, stop),
                Start("compactor", () =>
                {
                    var pace = new Random(Seed + 2);
                    while (!stop.Token.WaitHandle.WaitOne(pace.Next(100, 600)))
                    {
                        db.Compact();
                        Interlocked.Increment(ref explicitCompactions);
                    }
                }, errors, stop),
            };
            for (int r = 0; r < Readers; r++)
            {
                int seed = Seed + 10 + r;
                threads.Add(Start($"reader {r}", () => Reader(subjects, new Random(seed), seed, failures, stop.Token), errors, stop));
            }
            stop.CancelAfter(TimeSpan.FromSeconds(seconds));
            foreach (Thread thread in threads)
            {
                thread.Join();
            }
            Assert.True(errors.IsEmpty, string.Join("\n\n", errors));
            Assert.Null(db.LastBackgroundCompactionError);
            foreach (Subject subject in subjects)
            {
                subject.AssertFinalState();
            }
            long compared = subjects.Sum(s => s.Compared), operations = subjects.Sum(s => (long)s.Started - 1);
            output.WriteLine($"queries compared {compared} ({string.Join(", ", subjects.Select(s => s.Describe()))}); " +
                $"operations {operations}; seals {fs.LogsCreated - sealsBefore}; compactions {Interlocked.Read(ref compactions)} " +
                $"({Interlocked.Read(ref explicitCompactions)} explicit Compact calls); failures {failures.Count}");
            foreach (string failure in failures.Take(5))
            {
                output.WriteLine(failure);
            }
            Assert.True(failures.IsEmpty, $"{failures.Count} answers matched no state in their window; first:\n{failures.FirstOrDefault()}");
            Assert.True(compared > 1000, $"only {compared} queries compared");
            Assert.True(fs.LogsCreated - sealsBefore >= 3, "too few seals");
            Assert.True(Interlocked.Read(ref compactions) >= 2, "too few compactions");
        }
        CheckReport report = HammingDatabase.Check(_dir);
        Assert.True(report.Problems.All(p => p.Severity != CheckSeverity.Damage), string.Join("\n", report.Problems));
    }

    private static int RunSeconds() =>
        int.TryParse(Environment.GetEnvironmentVariable("HAMMINGDB_CONCURRENCY_SECONDS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int seconds) && seconds > 0
            ? seconds : DefaultSeconds;

    private static Thread Start(string name, Action body, ConcurrentQueue<Exception> errors, CancellationTokenSource stop)
    {
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
#pragma warning disable CA1031 // reported by the test thread
            catch (Exception e)
#pragma warning restore CA1031
            {
                errors.Enqueue(new InvalidOperationException($"{name} failed", e));
                stop.Cancel();
            }
        }) { Name = name, IsBackground = true };
        thread.Start();
        return thread;
    }

    // Upserts (new keys and overwrites, codes from a small pool so distances tie), deletes, inserts and write batches.
    private static void Writer(Subject[] subjects, Random random, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Subject subject = subjects[random.Next(subjects.Length)];
            int kind = random.Next(100);
            if (kind < 45)
            {
                ulong key = (ulong)random.Next(KeySpace);
                ulong[] code = subject.PoolCode(random);
                subject.Run(state => state.SetItem(key, code), () => subject.Items.Upsert(key, code), $"upsert {key}");
            }
            else if (kind < 65)
            {
                ulong key = (ulong)random.Next(KeySpace);
                bool existed = false;
                subject.Run(state =>
                {
                    existed = state.ContainsKey(key);
                    return state.Remove(key);
                }, () => Assert.Equal(existed, subject.Items.Delete(key)), $"delete {key}");
            }
            else if (kind < 72)
            {
                ulong key = (ulong)random.Next(KeySpace);
                ulong[] code = subject.PoolCode(random);
                bool inserted = false;
                subject.Run(state =>
                {
                    inserted = !state.ContainsKey(key);
                    return inserted ? state.Add(key, code) : state;
                }, () => Assert.Equal(inserted, subject.Items.Insert(key, code)), $"insert {key}");
            }
            else
            {
                CollectionBatch<ulong> batch = subject.Items.NewBatch();
                var parts = new List<(int Kind, ulong Key, ulong[] Code)>();
                for (int i = random.Next(2, 65); i > 0; i--)
                {
                    (int Kind, ulong Key, ulong[] Code) part = (random.Next(10), (ulong)random.Next(KeySpace), subject.PoolCode(random));
                    parts.Add(part);
                    switch (part.Kind)
                    {
                        case < 6: batch.Upsert(part.Key, part.Code); break;
                        case < 8: batch.Insert(part.Key, part.Code); break;
                        default: batch.Delete(part.Key); break;
                    }
                }
                subject.Run(state =>
                {
                    foreach ((int partKind, ulong key, ulong[] code) in parts)
                    {
                        state = partKind switch
                        {
                            < 6 => state.SetItem(key, code),
                            < 8 => state.ContainsKey(key) ? state : state.Add(key, code),
                            _ => state.Remove(key),
                        };
                    }
                    return state;
                }, () => subject.Items.Apply(batch), $"batch of {parts.Count}");
            }
        }
    }

    private static void Reader(Subject[] subjects, Random random, int seed, ConcurrentQueue<string> failures, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested && failures.Count < 20)
        {
            Subject subject = subjects[random.Next(subjects.Length)];
            var plan = (QueryPlan)random.Next(3);
            int kind = random.Next(7);
            int count = kind is 2 or 3 ? random.Next(2, 9) : 1;
            ulong[][] queries = [.. Enumerable.Range(0, count).Select(_ => subject.QueryCode(random))];
            int k = random.Next(1, 41);
            int radius = random.Next(5) == 0 ? random.Next(subject.Bits / 2 - 8, subject.Bits / 2 + 4) : random.Next(0, 7);
            ulong key = (ulong)random.Next(KeySpace);
            string what;
            int v0 = subject.Acknowledged;
            List<SearchResult<ulong>>[] answers;
            switch (kind)
            {
                case 0:
                    what = $"Knn k={k} plan={plan}";
                    answers = [[.. subject.Items.Knn(queries[0], k, plan)]];
                    break;
                case 1:
                    what = $"Radius r={radius} plan={plan}";
                    answers = [[.. subject.Items.Radius(queries[0], radius, plan)]];
                    break;
                case 2:
                    what = $"KnnBatch k={k} plan={plan}";
                    answers = [.. subject.Items.KnnBatch([.. queries.Select(q => new ReadOnlyMemory<ulong>(q))], k, threads: random.Next(1, 3), plan, CancellationToken.None)
                        .Select(a => a.ToList())];
                    break;
                case 3:
                    what = $"RadiusBatch r={radius} plan={plan}";
                    answers = [.. subject.Items.RadiusBatch([.. queries.Select(q => new ReadOnlyMemory<ulong>(q))], radius, threads: random.Next(1, 3), plan, CancellationToken.None)
                        .Select(a => a.ToList())];
                    break;
                case 4:
                    what = $"KnnAsync k={k} plan={plan}";
                    answers = [[.. subject.Items.KnnAsync(queries[0], k, plan, CancellationToken.None).GetAwaiter().GetResult()]];
                    break;
                default:
                    what = $"TryGet {key}";
                    answers = [subject.Items.TryGet(key, out StoredRow<ulong>? row) ? [new SearchResult<ulong>(key, Code64(row!.Code))] : []];
                    break;
            }
            int v1 = subject.Started;
            Func<ImmutableDictionary<ulong, ulong[]>, ulong[], List<SearchResult<ulong>>> expect = kind switch
            {
                0 or 2 or 4 => (state, query) => Brute(state, query).Take(k).ToList(),
                1 or 3 => (state, query) => Brute(state, query).TakeWhile(r => r.Distance <= radius).ToList(),
                _ => (state, _) => state.TryGetValue(key, out ulong[]? code) ? [new SearchResult<ulong>(key, Code64(code))] : [],
            };
            if (!subject.Matches(v0, v1, queries, answers, expect))
            {
                var message = new StringBuilder();
                message.Append(CultureInfo.InvariantCulture, $"{subject.Items.Name}: reader seed {seed}: {what}: no state v in [{v0}, {v1}] gives the answer");
                for (int q = 0; q < queries.Length; q++)
                {
                    message.Append(CultureInfo.InvariantCulture, $"\n  query {q} {string.Join(' ', queries[q].Select(w => w.ToString("x16", CultureInfo.InvariantCulture)))}");
                    message.Append(CultureInfo.InvariantCulture, $"\n    engine:     {Show(answers[q])}");
                    message.Append(CultureInfo.InvariantCulture, $"\n    brute @v0:  {Show(expect(subject.State(v0), queries[q]))}");
                    message.Append(CultureInfo.InvariantCulture, $"\n    brute @v1:  {Show(expect(subject.State(v1), queries[q]))}");
                }
                failures.Enqueue(message.ToString());
            }
            subject.Count(kind switch { 0 or 2 or 4 => 0, 1 or 3 => 1, _ => 2 });
        }
    }

    // TryGet answers compare as one result whose "distance" is a hash of the code.
    private static int Code64(ulong[] code) => code.Aggregate(17, (h, w) => HashCode.Combine(h, w));

    private static IEnumerable<SearchResult<ulong>> Brute(ImmutableDictionary<ulong, ulong[]> state, ulong[] query) =>
        state.Select(row => new SearchResult<ulong>(row.Key, TestData.OracleDistance(row.Value, query)))
            .OrderBy(r => r.Distance).ThenBy(r => r.Key);

    private static string Show(List<SearchResult<ulong>> results) =>
        $"[{results.Count}] " + string.Join(' ', results.Take(60).Select(r => $"{r.Key}:{r.Distance}")) + (results.Count > 60 ? " ..." : "");

    /// <summary>
    /// One collection and the history of its state: <c>states[v]</c> is the state after v operations
    /// (a write batch is one). The writer stores <c>states[v]</c>, raises <see cref="Started"/> to v,
    /// runs the operation, then raises <see cref="Acknowledged"/> to v.
    /// </summary>
    private sealed class Subject
    {
        private const int Window = 1 << 16;
        private readonly ImmutableDictionary<ulong, ulong[]>?[] _states = new ImmutableDictionary<ulong, ulong[]>?[Window];
        private readonly ulong[][] _pool;
        private readonly CodeLayout _layout;
        private int _started;
        private int _acknowledged;
        private long _compared;
        private readonly long[] _comparedByKind = new long[3];

        public Subject(HammingCollection<ulong> items, Random random)
        {
            Items = items;
            _layout = items.Layout;
            _pool = [.. Enumerable.Range(0, PoolSize).Select(_ => TestData.RandomCode(random, _layout))];
            _states[0] = ImmutableDictionary<ulong, ulong[]>.Empty;
        }

        public HammingCollection<ulong> Items { get; }

        public int Bits => _layout.CodeBits;

        public int Started => Volatile.Read(ref _started);

        public int Acknowledged => Volatile.Read(ref _acknowledged);

        public long Compared => Interlocked.Read(ref _compared);

        public string Describe() => $"{Items.Name}: {Compared} ({Interlocked.Read(ref _comparedByKind[0])} kNN, " +
            $"{Interlocked.Read(ref _comparedByKind[1])} radius, {Interlocked.Read(ref _comparedByKind[2])} get), {Started} operations";

        public ImmutableDictionary<ulong, ulong[]> State(int version) =>
            _states[version % Window] ?? throw new InvalidOperationException($"state {version} was dropped");

        /// <summary>A pool code with 0..2 bits flipped: many rows tie.</summary>
        public ulong[] PoolCode(Random random)
        {
            ulong[] code = (ulong[])_pool[random.Next(_pool.Length)].Clone();
            for (int f = random.Next(3); f > 0; f--)
            {
                int bit = random.Next(Bits);
                code[bit / 64] ^= 1UL << (bit % 64);
            }
            return code;
        }

        /// <summary>Near a pool code (a few bits flipped), or random one time in eight.</summary>
        public ulong[] QueryCode(Random random)
        {
            if (random.Next(8) == 0)
            {
                return TestData.RandomCode(random, _layout);
            }
            ulong[] code = PoolCode(random);
            int bit = random.Next(Bits);
            code[bit / 64] ^= 1UL << (bit % 64);
            return code;
        }

        public void Preload(Random random)
        {
            CollectionBatch<ulong> batch = Items.NewBatch();
            var keys = Enumerable.Range(0, KeySpace).OrderBy(_ => random.Next()).Take(Preloaded).Select(k => (ulong)k).ToList();
            var codes = keys.Select(_ => PoolCode(random)).ToList();
            for (int i = 0; i < keys.Count; i++)
            {
                batch.Upsert(keys[i], codes[i]);
            }
            Run(state => state.SetItems(keys.Select((k, i) => KeyValuePair.Create(k, codes[i]))), () => Items.Apply(batch), "preload");
        }

        /// <summary>Records the state after the operation, then runs it.</summary>
        public void Run(Func<ImmutableDictionary<ulong, ulong[]>, ImmutableDictionary<ulong, ulong[]>> model, Action operation, string what)
        {
            int next = _started + 1;
            _states[next % Window] = model(_states[_started % Window]!);
            // A slot is reused only a whole window later; a query spanning that many operations fails its State() call.
            _states[(next + Window / 2) % Window] = null;
            Volatile.Write(ref _started, next);
            try
            {
                operation();
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"{Items.Name}: operation {next} ({what}) failed", e);
            }
            Volatile.Write(ref _acknowledged, next);
        }

        /// <summary>Whether one state v in [v0, v1] gives every answer.</summary>
        public bool Matches(int v0, int v1, ulong[][] queries, List<SearchResult<ulong>>[] answers,
            Func<ImmutableDictionary<ulong, ulong[]>, ulong[], List<SearchResult<ulong>>> expect)
        {
            Interlocked.Add(ref _compared, queries.Length);
            for (int v = v0; v <= v1; v++)
            {
                ImmutableDictionary<ulong, ulong[]> state = State(v);
                bool all = true;
                for (int q = 0; q < queries.Length && all; q++)
                {
                    all = expect(state, queries[q]).SequenceEqual(answers[q]);
                }
                if (all)
                {
                    return true;
                }
            }
            return false;
        }

        public void Count(int kind) => Interlocked.Increment(ref _comparedByKind[kind]);

        /// <summary>After the run: every key holds the last state's code, and kNN of everything equals brute force.</summary>
        public void AssertFinalState()
        {
            ImmutableDictionary<ulong, ulong[]> last = State(Started);
            Assert.Equal(Acknowledged, Started);
            Assert.Equal(last.Count, Items.Count);
            for (ulong key = 0; key < KeySpace; key++)
            {
                bool found = Items.TryGet(key, out StoredRow<ulong>? row);
                Assert.Equal(last.ContainsKey(key), found);
                if (found)
                {
                    Assert.Equal(last[key], row!.Code);
                }
            }
            ulong[] query = _pool[0];
            Assert.Equal(Brute(last, query).ToList(), Items.Knn(query, int.MaxValue));
        }
    }

    /// <summary>The real file system, counting the logs created (one per seal, after the first).</summary>
    private sealed class CountingFileSystem : IFileSystem
    {
        private readonly PosixFileSystem _inner = PosixFileSystem.Instance;
        private int _logsCreated;

        public int LogsCreated => Volatile.Read(ref _logsCreated);

        public IStorageFile Create(string path)
        {
            if (Path.GetFileName(path).StartsWith("wal-", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _logsCreated);
            }
            return _inner.Create(path);
        }

        public IStorageFile Open(string path, bool writable) => _inner.Open(path, writable);

        public void Rename(string source, string destination) => _inner.Rename(source, destination);

        public void Delete(string path) => _inner.Delete(path);

        public void SyncDirectory(string directory) => _inner.SyncDirectory(directory);

        public bool FileExists(string path) => _inner.FileExists(path);

        public IReadOnlyList<string> ListFiles(string directory) => _inner.ListFiles(directory);

        public void CreateDirectory(string path) => _inner.CreateDirectory(path);

        public IDisposable LockExclusive(string path) => _inner.LockExclusive(path);

        public IDisposable? LockShared(string path) => _inner.LockShared(path);
    }
}
