using HammingDB.Kernels;
using HammingDB.Query;
using Xunit.Abstractions;

namespace HammingDB.Tests.Database;

/// <summary>
/// Searches through the engine with each plan (auto, MIH forced, scan forced) against brute force
/// over a model, on several segments with MIH tables plus a memtable, with deleted and replaced rows,
/// many ties, after compaction and after a reopen.
/// </summary>
public sealed class MihSearchTests(ITestOutputHelper output) : IDisposable
{
    private static readonly QueryPlan[] Plans = [QueryPlan.Auto, QueryPlan.Mih, QueryPlan.Scan];

    private readonly string _dir = Path.Combine(Directory.CreateTempSubdirectory("hdb-mih-").FullName, "db");

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_dir)!, recursive: true);

    private static List<SearchResult<ulong>> Brute(Dictionary<ulong, ulong[]> model, ulong[] query, Func<int, bool> keep, int take) =>
        model.Select(e => new SearchResult<ulong>(e.Key, TestData.OracleDistance(e.Value, query)))
            .Where(r => keep(r.Distance)).OrderBy(r => r.Distance).ThenBy(r => r.Key).Take(take).ToList();

    public static TheoryData<int, int> Widths() => new()
    {
        { 8, 1 }, { 24, 2 }, { 64, 3 }, { 72, 4 }, { 128, 5 }, { 256, 6 }, { 512, 7 }, { 1000, 8 },
    };

    [Theory]
    [MemberData(nameof(Widths))]
    public void Every_plan_equals_brute_force_over_segments_memtable_deletions_compaction_and_reopen(int bits, int seed)
    {
        output.WriteLine($"seed {seed}, {bits} bits");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        var options = new DatabaseOptions { SealRows = 900, MihMinRows = 64, BackgroundCompaction = false, ScanChunkRows = 37, ScanTileBytes = 1024 };
        var model = new Dictionary<ulong, ulong[]>();
        ulong[][] pool = Enumerable.Range(0, 12).Select(_ => TestData.RandomCode(random, layout)).ToArray();
        ulong[] Near(ulong[] code, int flips)
        {
            ulong[] copy = code.ToArray();
            for (int f = 0; f < flips; f++)
            {
                int bit = random.Next(bits);
                copy[bit >> 6] ^= 1UL << (bit & 63);
            }
            return copy;
        }
        ulong[] NewCode() => random.Next(4) switch
        {
            0 => pool[random.Next(pool.Length)], // exact ties
            1 or 2 => Near(pool[random.Next(pool.Length)], random.Next(1, Math.Max(2, bits / 6))),
            _ => TestData.RandomCode(random, layout),
        };

        HammingDatabase db = HammingDatabase.Open(_dir, options);
        try
        {
            HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = bits });
            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < 1000; i++)
                {
                    ulong key = (ulong)random.Next(3000);
                    ulong[] code = NewCode();
                    items.Upsert(key, code);
                    model[key] = code;
                }
                foreach (ulong key in model.Keys.Where(_ => random.Next(8) == 0).ToList())
                {
                    Assert.True(items.Delete(key));
                    model.Remove(key);
                }
            }
            Assert.True(items.GetStats().Segments >= 2, "the data spans several segments");
            Assert.True(items.GetStats().MemtableRows > 0, "and a memtable");
            CheckAll(items, model, random, pool, layout, "segments + memtable");

            db.Compact();
            CheckAll(items, model, random, pool, layout, "after compaction");

            db.Dispose();
            db = HammingDatabase.Open(_dir, options);
            items = db.GetCollection<ulong>("items");
            CheckAll(items, model, random, pool, layout, "after reopen");
        }
        finally
        {
            db.Dispose();
        }
    }

    private void CheckAll(HammingCollection<ulong> items, Dictionary<ulong, ulong[]> model, Random random, ulong[][] pool, CodeLayout layout, string when)
    {
        items.WaitForTables();
        int bits = layout.CodeBits;
        var queries = new List<ulong[]> { pool[0], pool[random.Next(pool.Length)], TestData.RandomCode(random, layout) };
        queries.Add(model.Values.Skip(random.Next(model.Count)).First());
        int[] radii = [0, 1, 2, 3, 5, bits / 16, bits / 8, bits / 4, bits / 3, bits / 2, bits, bits + 3];
        int[] ks = [1, 2, 7, 50, model.Count - 1, model.Count, model.Count + 10];
        int compared = 0;
        foreach (ulong[] query in queries)
        {
            foreach (int r in radii.Distinct())
            {
                List<SearchResult<ulong>> expected = Brute(model, query, d => d <= r, int.MaxValue);
                foreach (QueryPlan plan in Plans)
                {
                    Assert.True(expected.SequenceEqual(items.Radius(query, r, plan)), $"{when}: radius {r}, plan {plan} differs from brute force");
                    compared++;
                }
            }
            foreach (int k in ks.Where(k => k > 0).Distinct())
            {
                List<SearchResult<ulong>> expected = Brute(model, query, _ => true, k);
                foreach (QueryPlan plan in Plans)
                {
                    Assert.True(expected.SequenceEqual(items.Knn(query, k, plan)), $"{when}: kNN k={k}, plan {plan} differs from brute force");
                    compared++;
                }
            }
        }
        // Batches: each query's plan chosen on its own, the queries left to the scan scanned together
        // in tiles (a few rows each here, so tiles end inside segments).
        ReadOnlyMemory<ulong>[] batch = [.. queries.Select(q => new ReadOnlyMemory<ulong>(q))];
        foreach (int threads in new[] { 1, 2 })
        {
            foreach (QueryPlan plan in Plans)
            {
                foreach (int r in radii.Distinct())
                {
                    IReadOnlyList<IReadOnlyList<SearchResult<ulong>>> found = items.RadiusBatch(batch, r, threads, plan);
                    for (int q = 0; q < queries.Count; q++)
                    {
                        Assert.True(Brute(model, queries[q], d => d <= r, int.MaxValue).SequenceEqual(found[q]),
                            $"{when}: radius batch r={r}, plan {plan}, {threads} threads, query {q} differs from brute force");
                        compared++;
                    }
                }
                foreach (int k in ks.Where(k => k > 0).Distinct())
                {
                    IReadOnlyList<IReadOnlyList<SearchResult<ulong>>> found = items.KnnBatch(batch, k, threads, plan);
                    for (int q = 0; q < queries.Count; q++)
                    {
                        Assert.True(Brute(model, queries[q], _ => true, k).SequenceEqual(found[q]),
                            $"{when}: kNN batch k={k}, plan {plan}, {threads} threads, query {q} differs from brute force");
                        compared++;
                    }
                }
            }
        }
        output.WriteLine($"{when}: {compared} searches equal brute force; {items.GetStats()}");
    }

    [Fact]
    public void After_reopen_WaitForTables_returns_once_the_tables_are_usable_and_the_costs_calibrated()
    {
        const int seed = 22;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(64);
        var options = new DatabaseOptions { SealRows = 20_000, MihMinRows = 1000, BackgroundCompaction = false };
        using (HammingDatabase db = HammingDatabase.Open(_dir, options))
        {
            HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
            var batch = items.NewBatch();
            for (ulong key = 0; key < 20_000; key++)
            {
                batch.Upsert(key, TestData.RandomCode(random, layout));
            }
            items.Apply(batch);
            db.Flush();
        }
        using (HammingDatabase db = HammingDatabase.Open(_dir, options))
        {
            HammingCollection<ulong> items = db.GetCollection<ulong>("items");
            items.WaitForTables();
            QueryExplanation explained = items.ExplainRadius(TestData.RandomCode(random, layout), 2);
            output.WriteLine($"{explained.CostModel}; {explained.Segments[0].Plan}: {explained.Segments[0].Reason}");
            Assert.StartsWith("measured", explained.CostModel, StringComparison.Ordinal);
            Assert.Equal("mih", explained.Segments[0].Plan);
            Assert.Throws<OperationCanceledException>(() => items.WaitForTables(new CancellationToken(canceled: true)));
        }
    }

    [Fact]
    public void Explain_tells_the_plan_estimates_and_actual_reads_of_each_segment()
    {
        const int seed = 21;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(64);
        using HammingDatabase db = HammingDatabase.Open(_dir, new DatabaseOptions { SealRows = 5000, MihMinRows = 1000, BackgroundCompaction = false });
        HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
        foreach ((ulong first, ulong end) in new[] { (0UL, 5000UL), (5000UL, 10_000UL), (10_000UL, 12_000UL) })
        {
            var batch = items.NewBatch();
            for (ulong key = first; key < end; key++)
            {
                batch.Upsert(key, TestData.RandomCode(random, layout));
            }
            items.Apply(batch);
            db.Flush(); // segments of 5000, 5000 and 2000 rows, all with tables
        }
        items.WaitForTables();
        ulong[] query = TestData.RandomCode(random, layout);

        QueryExplanation mih = items.ExplainRadius(query, 2, QueryPlan.Mih);
        Assert.Equal(3, mih.Segments.Count);
        Assert.All(mih.Segments, s => Assert.True(s.Plan == "mih" && s.Tables > 0 && s.Probes > 0 && s.RowsScanned == 0 && s.Elapsed > TimeSpan.Zero, s.ToString()));
        Assert.Equal("radius", mih.Operation);

        QueryExplanation scan = items.ExplainRadius(query, 2, QueryPlan.Scan);
        Assert.All(scan.Segments, s => Assert.True(s.Plan == "scan" && s.Probes == 0 && s.RowsScanned == s.Rows && s.Reason == "scan forced", s.ToString()));
        Assert.Equal(mih.Results, scan.Results);

        // A model where probing is very dear makes auto scan; one where it is free makes auto probe.
        items.UseCostModel(new CostModel(0.1, 0.1, 1e9, 1e9, 1e9, "dear"));
        Assert.All(items.ExplainRadius(query, 2).Segments, s => Assert.True(s.Plan == "scan" && s.EstimatedMihMicroseconds > s.EstimatedScanMicroseconds, s.ToString()));
        QueryExplanation switched = items.ExplainKnn(query, 10);
        Assert.All(switched.Segments, s => Assert.True(s.Plan == "mih+scan" && s.RowsScanned == s.Rows, s.ToString()));
        Assert.Equal("dear", switched.CostModel);
        items.UseCostModel(new CostModel(1e6, 1e6, 0, 0, 0, "cheap"));
        Assert.All(items.ExplainRadius(query, 2).Segments, s => Assert.True(s.Plan == "mih" && s.EstimatedMihMicroseconds <= s.EstimatedScanMicroseconds, s.ToString()));
        QueryExplanation knn = items.ExplainKnn(query, 10);
        Assert.All(knn.Segments, s => Assert.True(s.Plan == "mih" && s.Rings > 0 && s.RowsScanned == 0, s.ToString()));
        Assert.Equal(10, knn.Results);
        Assert.True(items.Knn(query, 10, QueryPlan.Scan).SequenceEqual(items.Knn(query, 10)));
    }

    [Fact]
    public void A_radius_search_whose_buckets_hold_far_more_than_the_average_switches_to_the_scan_with_the_same_answer()
    {
        const int seed = 22;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(64);
        using HammingDatabase db = HammingDatabase.Open(_dir, new DatabaseOptions { SealRows = 100_000, MihMinRows = 1000, BackgroundCompaction = false });
        HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
        ulong[] hot = TestData.RandomCode(random, layout);
        var batch = items.NewBatch();
        for (ulong key = 0; key < 20_000; key++)
        {
            batch.Upsert(key, key % 2 == 0 ? hot : TestData.RandomCode(random, layout)); // half the rows in one bucket of every table
        }
        items.Apply(batch);
        db.Flush();
        items.WaitForTables();
        // Scan predicted at 4,000 ns; the average bucket predicts MIH far below it, so it runs without counting,
        // and gives up once it has read the 4,000 postings the scan's time pays for.
        items.UseCostModel(new CostModel(0.2, 0, 0, 1, 1, "skewed"));
        QueryExplanation explained = items.ExplainRadius(hot, 3);
        SegmentExplanation segment = Assert.Single(explained.Segments);
        Assert.True(segment.Plan == "mih+scan" && segment.RowsScanned == 20_000 && segment.Found >= 10_000, segment.ToString());
        Assert.Contains("switched to the scan", segment.Reason, StringComparison.Ordinal);
        Assert.True(items.Radius(hot, 3, QueryPlan.Scan).SequenceEqual(items.Radius(hot, 3)));
        Assert.True(items.Radius(hot, 3, QueryPlan.Mih).SequenceEqual(items.Radius(hot, 3)));
    }

    [Fact]
    public void A_cost_model_that_overprices_MIH_is_corrected_by_the_searches_times_unless_pinned()
    {
        const int seed = 23;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(64);
        using HammingDatabase db = HammingDatabase.Open(_dir, new DatabaseOptions { SealRows = 300_000, MihMinRows = 1000, BackgroundCompaction = false });
        HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
        var batch = items.NewBatch();
        for (ulong key = 0; key < 200_000; key++)
        {
            batch.Upsert(key, TestData.RandomCode(random, layout));
        }
        items.Apply(batch);
        db.Flush();
        items.WaitForTables();
        ulong[] query = TestData.RandomCode(random, layout);
        // Probes priced at 10 us and postings at 300 ns (a hundred times what they take): MIH at radius 2 is predicted dearer
        // than the scan's 20 us, though it takes a few microseconds.
        var overpriced = new CostModel(0.1, 0, 10_000, 300, 300, "overpriced");
        void SearchByMih(int count)
        {
            for (int i = 0; i < count; i++)
            {
                items.Radius(TestData.RandomCode(random, layout), 2, QueryPlan.Mih);
            }
        }

        items.UseCostModel(overpriced);
        SearchByMih(100);
        QueryExplanation pinned = items.ExplainRadius(query, 2);
        output.WriteLine($"{pinned.CostModel}: {pinned.Segments[0]}");
        Assert.Equal("scan", Assert.Single(pinned.Segments).Plan);
        Assert.Equal("overpriced", pinned.CostModel);

        items.UseCostModel(overpriced, learns: true);
        QueryExplanation before = items.ExplainRadius(query, 2);
        Assert.Equal("scan", Assert.Single(before.Segments).Plan);
        SearchByMih(100);
        QueryExplanation after = items.ExplainRadius(query, 2);
        output.WriteLine($"{after.CostModel}: {after.Segments[0]}");
        SegmentExplanation segment = Assert.Single(after.Segments);
        Assert.Equal("mih", segment.Plan);
        Assert.True(segment.EstimatedMihMicroseconds < before.Segments[0].EstimatedMihMicroseconds / 3, $"{segment} after {before.Segments[0]}");
        Assert.StartsWith("overpriced; corrected by ", after.CostModel, StringComparison.Ordinal);
        Assert.True(items.Radius(query, 2, QueryPlan.Scan).SequenceEqual(items.Radius(query, 2)));
    }

    [Fact]
    public void Searches_that_drift_far_from_the_calibration_make_the_collection_calibrate_again()
    {
        const int seed = 24;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(64);
        using HammingDatabase db = HammingDatabase.Open(_dir, new DatabaseOptions { SealRows = 100_000, MihMinRows = 1000, BackgroundCompaction = false });
        HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
        var batch = items.NewBatch();
        for (ulong key = 0; key < 20_000; key++)
        {
            batch.Upsert(key, TestData.RandomCode(random, layout));
        }
        items.Apply(batch);
        db.Flush();
        items.WaitForTables();
        ulong[] query = TestData.RandomCode(random, layout);
        Assert.StartsWith("measured", items.ExplainRadius(query, 2).CostModel, StringComparison.Ordinal);

        // A calibration that prices MIH a hundred times too high: forced MIH searches time it (each predicted at 30 us or more).
        items.UseCalibratedCostModel(new CostModel(0.1, 0, 10_000, 300, 300, "overpriced"), recalibrateAfterMs: 0);
        Assert.Equal("overpriced", items.ExplainRadius(query, 2, QueryPlan.Scan).CostModel);
        for (int i = 0; i < 60; i++)
        {
            items.Radius(TestData.RandomCode(random, layout), 2, QueryPlan.Mih); // once the factor drifted past 2x, the next search recalibrates
        }
        items.WaitForTables();
        string model = items.ExplainRadius(query, 2, QueryPlan.Mih).CostModel;
        output.WriteLine(model);
        Assert.StartsWith("measured", model, StringComparison.Ordinal);
        Assert.Contains("recalibrated: the searches had drifted from the last calibration (MIH x0.", model, StringComparison.Ordinal);
    }
}
