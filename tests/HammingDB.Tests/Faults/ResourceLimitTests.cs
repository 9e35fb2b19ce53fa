using HammingDB.Kernels;
using HammingDB.Storage;
using HammingDB.Storage.Keys;
using Xunit.Abstractions;

namespace HammingDB.Tests.Faults;

/// <summary>Allocation deltas are measured process-wide, so these tests run alone.</summary>
[CollectionDefinition(nameof(ResourceLimitsRunAlone), DisableParallelization = true)]
public sealed class ResourceLimitsRunAlone;

/// <summary>
/// Huge k, huge radius, huge batches through the API: answers are every row, memory is bounded by the
/// rows that exist (never by k), and bad arguments are refused naming the parameter.
/// </summary>
[Collection(nameof(ResourceLimitsRunAlone))]
public class ResourceLimitTests(ITestOutputHelper output)
{
    private const int Seed = 6;
    private const int Keys = 3000;

    private static readonly QueryPlan[] Plans = [QueryPlan.Auto, QueryPlan.Mih, QueryPlan.Scan];

    [Theory]
    [InlineData(64)]
    [InlineData(192)]
    public async Task Huge_k_returns_every_row_without_allocating_by_k(int bits)
    {
        using Fixture f = Fixture.Create(bits);
        ulong[] query = f.Codes[7];
        var every = f.Brute(query).ToList();
        foreach (int k in new[] { f.Live + 1, 50_000_000, int.MaxValue })
        {
            foreach (QueryPlan plan in Plans)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                IReadOnlyList<SearchResult<ulong>> found = f.Items.Knn(query, k, plan);
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                output.WriteLine($"{bits} bits, k={k}, {plan}: {found.Count} rows, {allocated:N0} bytes allocated");
                Assert.Equal(every, found);
                // Every row's key and result, the collectors and MIH's per-query state: a few hundred bytes per row.
                Assert.True(allocated < 2_000_000 + 1000L * f.Live, $"k={k} {plan}: {allocated:N0} bytes allocated for {f.Live} rows");
                Assert.Equal(every, await f.Items.KnnAsync(query, k, plan));
                Assert.Equal(every.Count, f.Items.ExplainKnn(query, k, plan).Results);
            }
            long total = GC.GetTotalAllocatedBytes(precise: true);
            IReadOnlyList<IReadOnlyList<SearchResult<ulong>>> batch = f.Items.KnnBatch([query, f.Codes[8], f.Codes[9]], k, threads: 2);
            long batchBytes = GC.GetTotalAllocatedBytes(precise: true) - total;
            output.WriteLine($"  KnnBatch of 3, k={k}: {batchBytes:N0} bytes allocated");
            Assert.Equal(every, batch[0]);
            Assert.Equal(f.Brute(f.Codes[9]).ToList(), batch[2]);
            Assert.True(batchBytes < 6_000_000 + 3000L * f.Live, $"KnnBatch k={k}: {batchBytes:N0} bytes allocated");
        }
        // The kernels' own entry points cap their collectors by the rows too.
        var packed = new PackedCodes(f.Items.Layout, f.Codes.Length);
        foreach (ulong[] code in f.Codes)
        {
            packed.Add(code);
        }
        long kernelBefore = GC.GetAllocatedBytesForCurrentThread();
        Neighbor[] all = ExhaustiveSearch.Knn(packed, query, int.MaxValue, new SearchOptions { Threads = 1 });
        Assert.Equal(f.Codes.Length, all.Length);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - kernelBefore < 1_000_000 + 100L * f.Codes.Length);
        Assert.Equal(f.Codes.Length, ExhaustiveSearch.KnnBatch(packed.Block, packed.Block.Slice(0, 2), int.MaxValue, new SearchOptions { Threads = 1 })[1].Length);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(192)]
    public void Huge_radius_is_every_row_without_overflow(int bits)
    {
        using Fixture f = Fixture.Create(bits);
        ulong[] query = f.Codes[3];
        var every = f.Brute(query).ToList();
        foreach (int radius in new[] { bits, bits + 1, int.MaxValue - 1, int.MaxValue })
        {
            foreach (QueryPlan plan in Plans)
            {
                Assert.Equal(every, f.Items.Radius(query, radius, plan));
                Assert.Equal(every, f.Items.RadiusAsync(query, radius, plan).ToBlockingEnumerable().ToList());
                Assert.Equal(every, f.Items.RadiusBatch([query, f.Codes[4]], radius, threads: 2, plan)[0]);
                Assert.Equal(every.Count, f.Items.ExplainRadius(query, radius, plan).Results);
            }
        }
        var packed = new PackedCodes(f.Items.Layout, f.Codes.Length);
        foreach (ulong[] code in f.Codes)
        {
            packed.Add(code);
        }
        Assert.Equal(f.Codes.Length, ExhaustiveSearch.Radius(packed, query, int.MaxValue).Length);
        Assert.Equal(f.Codes.Length, ExhaustiveSearch.RadiusBatch(packed.Block, packed.Block.Slice(0, 2), int.MaxValue)[1].Length);
    }

    [Fact]
    public void Negative_or_zero_k_and_negative_radius_are_refused_naming_the_parameter()
    {
        using Fixture f = Fixture.Create(64);
        ulong[] query = f.Codes[0];
        foreach (int k in new[] { 0, -1, int.MinValue })
        {
            Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => f.Items.Knn(query, k)).ParamName);
            Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => { _ = f.Items.KnnAsync(query, k); }).ParamName);
            Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => f.Items.KnnBatch([query], k)).ParamName);
            Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => f.Items.ExplainKnn(query, k)).ParamName);
        }
        foreach (int radius in new[] { -1, int.MinValue })
        {
            Assert.Equal("radius", Assert.Throws<ArgumentOutOfRangeException>(() => f.Items.Radius(query, radius)).ParamName);
            Assert.Equal("radius", Assert.Throws<ArgumentOutOfRangeException>(() => f.Items.RadiusAsync(query, radius)).ParamName);
            Assert.Equal("radius", Assert.Throws<ArgumentOutOfRangeException>(() => f.Items.RadiusBatch([query], radius)).ParamName);
            Assert.Equal("radius", Assert.Throws<ArgumentOutOfRangeException>(() => f.Items.ExplainRadius(query, radius)).ParamName);
        }
        Assert.Equal("threads", Assert.Throws<ArgumentOutOfRangeException>(() => f.Items.KnnBatch([query], 1, threads: -1)).ParamName);
        PackedCodes packed = f.Packed();
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => ExhaustiveSearch.Knn(packed, query, 0)).ParamName);
        Assert.Equal("radius", Assert.Throws<ArgumentOutOfRangeException>(() => ExhaustiveSearch.Radius(packed, query, -1)).ParamName);
    }

    [Fact]
    public void A_batch_of_many_queries_allocates_per_query_only_its_own_results()
    {
        using Fixture f = Fixture.Create(64);
        var random = new Random(Seed);
        const int Queries = 100_000;
        var queries = new ReadOnlyMemory<ulong>[Queries];
        for (int i = 0; i < Queries; i++)
        {
            queries[i] = f.Codes[random.Next(f.Codes.Length)];
        }
        foreach (QueryPlan plan in Plans)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            IReadOnlyList<IReadOnlyList<SearchResult<ulong>>> knn = f.Items.KnnBatch(queries, 2, threads: 2, plan);
            long knnBytes = GC.GetTotalAllocatedBytes(precise: true) - before;
            before = GC.GetTotalAllocatedBytes(precise: true);
            IReadOnlyList<IReadOnlyList<SearchResult<ulong>>> radius = f.Items.RadiusBatch(queries, 0, threads: 2, plan);
            long radiusBytes = GC.GetTotalAllocatedBytes(precise: true) - before;
            output.WriteLine($"{Queries} queries, {plan}: KnnBatch k=2 {knnBytes / Queries:N0} bytes per query, RadiusBatch r=0 {radiusBytes / Queries:N0} bytes per query");
            Assert.Equal(Queries, knn.Count);
            Assert.Equal(Queries, radius.Count);
            Assert.Equal(f.Brute(queries[^1].ToArray()).Take(2).ToList(), knn[^1]);
            // Not O(rows) per query (3000 rows: 24 KB of distances or more); about 1.5-3.2 KB measured.
            Assert.True(knnBytes / Queries < 8192, $"KnnBatch {plan}: {knnBytes / Queries:N0} bytes per query");
            Assert.True(radiusBytes / Queries < 8192, $"RadiusBatch {plan}: {radiusBytes / Queries:N0} bytes per query");
        }
    }

    /// <summary>
    /// An in-memory database with <see cref="Keys"/> rows: most in segments with MIH tables (some
    /// deleted or superseded since), the rest in the memtable; codes from a small pool so distances tie.
    /// </summary>
    private sealed class Fixture : IDisposable
    {
        private Fixture(HammingDatabase db, HammingCollection<ulong> items, ulong[][] codes, Dictionary<ulong, ulong[]> rows)
        {
            Db = db;
            Items = items;
            Codes = codes;
            Rows = rows;
        }

        public HammingDatabase Db { get; }

        public HammingCollection<ulong> Items { get; }

        public ulong[][] Codes { get; }

        public Dictionary<ulong, ulong[]> Rows { get; }

        public int Live => Rows.Count;

        public static Fixture Create(int bits)
        {
            var random = new Random(Seed + bits);
            var layout = new CodeLayout(bits);
            ulong[][] pool = [.. Enumerable.Range(0, 40).Select(_ => TestData.RandomCode(random, layout))];
            ulong[][] codes = [.. Enumerable.Range(0, Keys).Select(_ =>
            {
                ulong[] code = (ulong[])pool[random.Next(pool.Length)].Clone();
                int bit = random.Next(bits);
                code[bit / 64] ^= 1UL << (bit % 64);
                return code;
            })];
            var db = HammingDatabase.Open(new MemoryFileSystem(), "/db",
                new DatabaseOptions { SealRows = 1000, MihMinRows = 500, BackgroundCompaction = false }, new MemoryKeyIndexStore());
            HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = bits });
            var rows = new Dictionary<ulong, ulong[]>();
            for (int start = 0; start < Keys; start += 500)
            {
                CollectionBatch<ulong> batch = items.NewBatch();
                for (int i = start; i < start + 500; i++)
                {
                    batch.Upsert((ulong)i, codes[i]);
                    rows[(ulong)i] = codes[i];
                }
                items.Apply(batch);
            }
            for (int i = 0; i < 200; i++)
            {
                ulong key = (ulong)random.Next(Keys);
                if (i % 2 == 0)
                {
                    items.Delete(key);
                    rows.Remove(key);
                }
                else
                {
                    items.Upsert(key, codes[i]);
                    rows[key] = codes[i];
                }
            }
            foreach (CollectionStats stats in new[] { items.GetStats() })
            {
                Assert.True(stats.Segments >= 2 && stats.MemtableRows > 0, $"fixture: {stats}");
            }
            return new Fixture(db, items, codes, rows);
        }

        public IEnumerable<SearchResult<ulong>> Brute(ulong[] query) =>
            Rows.Select(r => new SearchResult<ulong>(r.Key, TestData.OracleDistance(r.Value, query))).OrderBy(r => r.Distance).ThenBy(r => r.Key);

        public PackedCodes Packed()
        {
            var packed = new PackedCodes(Items.Layout, Codes.Length);
            foreach (ulong[] code in Codes)
            {
                packed.Add(code);
            }
            return packed;
        }

        public void Dispose() => Db.Dispose();
    }
}
