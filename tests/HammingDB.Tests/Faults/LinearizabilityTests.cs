using System.Collections.Concurrent;
using System.Globalization;
using CsCheck;
using HammingDB.Storage;
using HammingDB.Storage.Keys;
using Xunit.Abstractions;

namespace HammingDB.Tests.Faults;

/// <summary>
/// Linearizability of small histories (CsCheck's <c>SampleParallel</c> with a model): a few operations
/// run one after another, then up to five in parallel on one collection; some order of the parallel
/// ones, run one at a time on a dictionary, must give the same final rows and every operation's own
/// answer (what Delete and Insert returned, what Get and the searches saw). Memtables hold three rows,
/// so seals, MIH tables and background compactions happen inside the parallel part.
/// </summary>
public class LinearizabilityTests(ITestOutputHelper output)
{
    private const int KeySpace = 6;
    private const ulong Seed = 20261123;
    private const int Histories = 300;

    // Codes close to one another, so that distances tie and a radius takes some rows but not all.
    private static readonly ulong[] Codes = [0x0, 0x1, 0x3, 0x7, 0xF0, 0xF1, 0xFF, 0x100];

    [Fact]
    public void Upsert_delete_insert_get_knn_and_radius_are_linearizable()
    {
        var opened = new ConcurrentBag<Actual>();
        int histories = 0;
        int samples = 0;
        try
        {
            // One history per seed (CsCheck's seed strings, made from a fixed stream and seed), so every run checks the same ones.
            for (uint stream = 0; stream < Histories; stream++)
            {
                string seed = new PCG(stream, Seed).ToString();
                samples++;
                Sample(seed, () =>
                {
                    var actual = new Actual(Interlocked.Increment(ref histories), seed);
                    opened.Add(actual);
                    return actual;
                });
            }
        }
        finally
        {
            foreach (Actual actual in opened)
            {
                actual.Dispose();
            }
        }
        int databases = opened.Count(a => a.WasOpened);
        output.WriteLine($"stream 0..{Histories - 1} of seed {Seed}: {samples} samples, {databases} histories checked on their own database ({histories} initial states generated); " +
            $"{opened.Count(a => a.Segments > 0)} of them ended with sealed segments ({opened.Sum(a => a.Segments)} in all), compactions {opened.Sum(a => a.Compactions)}");
        Assert.True(databases >= Histories, $"only {databases} histories ran");
    }

    private static void Sample(string seed, Func<Actual> open) =>
        Gen.Const(() => (open(), new Model()))
            .SampleParallel(
                [
                    Gen.Select(Gen.Long[1, long.MaxValue], Gen.Int[0, KeySpace - 1], Gen.Int[0, Codes.Length - 1]).Operation<Actual, Model>(
                        t => $"Upsert({t.Item2}, {Codes[t.Item3]:x})",
                        (a, t) => a.Record(t.Item1, () => { a.Items.Upsert((ulong)t.Item2, [Codes[t.Item3]]); return "ok"; }),
                        (m, t) => m.Record(t.Item1, () => { m.Rows[(ulong)t.Item2] = Codes[t.Item3]; return "ok"; })),
                    Gen.Select(Gen.Long[1, long.MaxValue], Gen.Int[0, KeySpace - 1]).Operation<Actual, Model>(
                        t => $"Delete({t.Item2})",
                        (a, t) => a.Record(t.Item1, () => Text(a.Items.Delete((ulong)t.Item2))),
                        (m, t) => m.Record(t.Item1, () => Text(m.Rows.Remove((ulong)t.Item2)))),
                    Gen.Select(Gen.Long[1, long.MaxValue], Gen.Int[0, KeySpace - 1], Gen.Int[0, Codes.Length - 1]).Operation<Actual, Model>(
                        t => $"Insert({t.Item2}, {Codes[t.Item3]:x})",
                        (a, t) => a.Record(t.Item1, () => Text(a.Items.Insert((ulong)t.Item2, [Codes[t.Item3]]))),
                        (m, t) => m.Record(t.Item1, () => Text(m.Rows.TryAdd((ulong)t.Item2, Codes[t.Item3])))),
                    Gen.Select(Gen.Long[1, long.MaxValue], Gen.Int[0, KeySpace - 1], Gen.Int[0, KeySpace - 1], Gen.Int[0, Codes.Length - 1]).Operation<Actual, Model>(
                        t => $"Batch(upsert {t.Item2} {Codes[t.Item4]:x}, delete {t.Item3})",
                        (a, t) => a.Record(t.Item1, () =>
                        {
                            CollectionBatch<ulong> batch = a.Items.NewBatch();
                            batch.Upsert((ulong)t.Item2, [Codes[t.Item4]]);
                            batch.Delete((ulong)t.Item3);
                            a.Items.Apply(batch);
                            return "ok";
                        }),
                        (m, t) => m.Record(t.Item1, () =>
                        {
                            m.Rows[(ulong)t.Item2] = Codes[t.Item4];
                            m.Rows.Remove((ulong)t.Item3);
                            return "ok";
                        })),
                    Gen.Select(Gen.Long[1, long.MaxValue], Gen.Int[0, KeySpace - 1]).Operation<Actual, Model>(
                        t => $"Get({t.Item2})",
                        (a, t) => a.Record(t.Item1, () => a.Items.TryGet((ulong)t.Item2, out StoredRow<ulong>? row) ? $"{row!.Code[0]:x}" : "none"),
                        (m, t) => m.Record(t.Item1, () => m.Rows.TryGetValue((ulong)t.Item2, out ulong code) ? $"{code:x}" : "none")),
                    Gen.Select(Gen.Long[1, long.MaxValue], Gen.Int[0, Codes.Length - 1], Gen.Int[1, KeySpace + 1], Gen.Int[0, 2]).Operation<Actual, Model>(
                        t => $"Knn({Codes[t.Item2]:x}, k={t.Item3}, {(QueryPlan)t.Item4})",
                        (a, t) => a.Record(t.Item1, () => Show(a.Items.Knn([Codes[t.Item2]], t.Item3, (QueryPlan)t.Item4))),
                        (m, t) => m.Record(t.Item1, () => Show(m.Brute(Codes[t.Item2]).Take(t.Item3)))),
                    Gen.Select(Gen.Long[1, long.MaxValue], Gen.Int[0, Codes.Length - 1], Gen.Int[0, 5], Gen.Int[0, 2]).Operation<Actual, Model>(
                        t => $"Radius({Codes[t.Item2]:x}, r={t.Item3}, {(QueryPlan)t.Item4})",
                        (a, t) => a.Record(t.Item1, () => Show(a.Items.Radius([Codes[t.Item2]], t.Item3, (QueryPlan)t.Item4))),
                        (m, t) => m.Record(t.Item1, () => Show(m.Brute(Codes[t.Item2]).TakeWhile(r => r.Distance <= t.Item3)))),
                ],
                equal: (a, m) => a.Equals(m),
                seed: seed,
                maxSequentialOperations: 8,
                maxParallelOperations: 5,
                iter: 1,
                threads: 3,
                replay: 1,
                printActual: a => a.ToString(),
                printModel: m => m.ToString());

    private static string Text(bool value) => value ? "true" : "false";

    private static string Show(IEnumerable<SearchResult<ulong>> results) => string.Join(' ', results.Select(r => $"{r.Key}:{r.Distance}"));

    /// <summary>One history's database (in memory, opened at its first operation) and what each operation returned.</summary>
    private sealed class Actual(int number, string seed) : IDisposable
    {
        private readonly Lock _gate = new();
        private readonly ConcurrentDictionary<long, string> _results = new();
        private readonly MemoryFileSystem _fs = new();
        private HammingDatabase? _db;
        private HammingCollection<ulong>? _items;
        private string? _rows;
        private int _compactions;

        public bool WasOpened => _db is not null;

        /// <summary>Segments the collection had at the end (before close), 0 if never opened.</summary>
        public int Segments { get; private set; }

        public int Compactions => Volatile.Read(ref _compactions);

        public HammingCollection<ulong> Items
        {
            get
            {
                lock (_gate)
                {
                    if (_items is null)
                    {
                        _db = HammingDatabase.Open(_fs, "/db", new DatabaseOptions
                        {
                            SealRows = 3,
                            MihMinRows = 2,
                            CompactionMinSegments = 2,
                        }, new MemoryKeyIndexStore());
                        _db.AfterCompactionMerge = () => Interlocked.Increment(ref _compactions);
                        _items = _db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
                    }
                    return _items;
                }
            }
        }

        public void Record(long operation, Func<string> run) => Assert.True(_results.TryAdd(operation, run()), $"history {number} (seed {seed}): operation id {operation} twice");

        public bool Equals(Model model)
        {
            _rows ??= string.Join(' ', Enumerable.Range(0, KeySpace).Select(k => Items.TryGet((ulong)k, out StoredRow<ulong>? row) ? $"{k}={row!.Code[0]:x}" : ""));
            return _rows == model.RowsText() && _results.Count == model.Results.Count
                && _results.All(r => model.Results.TryGetValue(r.Key, out string? answer) && answer == r.Value);
        }

        public override string ToString() => $"rows [{_rows}] answers {string.Join(", ", _results.OrderBy(r => r.Key).Select(r => $"#{r.Key % 10000}: {r.Value}"))}";

        public void Dispose()
        {
            if (_items is not null)
            {
                Segments = _items.GetStats().Segments;
            }
            _db?.Dispose();
        }
    }

    /// <summary>The model: a dictionary, and what each operation returned on it.</summary>
    private sealed class Model
    {
        public Dictionary<ulong, ulong> Rows { get; } = [];

        public Dictionary<long, string> Results { get; } = [];

        public void Record(long operation, Func<string> run) => Results[operation] = run();

        public IEnumerable<SearchResult<ulong>> Brute(ulong query) =>
            Rows.Select(r => new SearchResult<ulong>(r.Key, System.Numerics.BitOperations.PopCount(r.Value ^ query)))
                .OrderBy(r => r.Distance).ThenBy(r => r.Key);

        public string RowsText() => string.Join(' ', Enumerable.Range(0, KeySpace).Select(k => Rows.TryGetValue((ulong)k, out ulong code) ? $"{k}={code:x}" : ""));

        public override string ToString() =>
            $"rows [{RowsText()}] answers {string.Join(", ", Results.OrderBy(r => r.Key).Select(r => $"#{r.Key % 10000}: {r.Value}"))}";
    }
}
