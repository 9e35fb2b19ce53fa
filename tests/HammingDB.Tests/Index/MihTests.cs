using HammingDB.Index.Mih;
using HammingDB.Kernels;
using Xunit.Abstractions;

namespace HammingDB.Tests.Index;

public class MihTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(100, 1)]
    [InlineData(5000, 6)]
    [InlineData(1 << 20, 14)]
    [InlineData(10_000_000, 17)]
    public void Substring_width_of_one_word_codes_gives_buckets_of_about_64_codes(int rows, int bits)
    {
        Assert.Equal(bits, MihLayout.ChooseSubstringBits(rows, 64));
        Assert.Equal(bits, MihLayout.ChooseSubstringBits(rows, 8));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(100, 7)]
    [InlineData(5000, 12)]
    [InlineData(1 << 20, 20)]
    [InlineData(10_000_000, 23)]
    public void Substring_width_of_wider_codes_gives_buckets_of_about_one_code(int rows, int bits)
    {
        Assert.Equal(bits, MihLayout.ChooseSubstringBits(rows, 65));
        Assert.Equal(bits, MihLayout.ChooseSubstringBits(rows, 256));
    }

    [Theory]
    [InlineData(64, 10_000_000, 4)]
    [InlineData(256, 10_000_000, 11)]
    [InlineData(256, 1_000_000, 13)]
    [InlineData(128, 10_000_000, 6)]
    [InlineData(64, 5000, 11)]
    [InlineData(8, 1 << 20, 1)]
    [InlineData(32, 100, 32)]
    [InlineData(16, 0, 16)]
    public void Substring_count_is_bits_over_substring_width_rounded_and_clamped(int codeBits, int rows, int count) =>
        Assert.Equal(count, MihLayout.Choose(codeBits, rows).Count);

    [Fact]
    public void Split_covers_the_code_with_contiguous_ranges_as_equal_as_possible()
    {
        MihLayout layout = MihLayout.Split(200, 3);
        Assert.Equal([0, 67, 134], Enumerable.Range(0, 3).Select(layout.Start));
        Assert.Equal([67, 67, 66], Enumerable.Range(0, 3).Select(layout.Bits));
        Assert.Equal([24, 24, 24], Enumerable.Range(0, 3).Select(layout.DirectBits));
        Assert.Equal(10, MihLayout.Split(64, 1, maxDirectBits: 10).DirectBits(0));
        Assert.Equal(6, MihLayout.Split(64, 10, maxDirectBits: 10).DirectBits(9));
        for (int bits = 1; bits <= 300; bits += 7)
        {
            for (int m = 1; m <= bits; m += 1 + (bits / 5))
            {
                MihLayout split = MihLayout.Split(bits, m);
                int widest = Enumerable.Range(0, m).Max(split.Bits);
                int narrowest = Enumerable.Range(0, m).Min(split.Bits);
                Assert.True(widest - narrowest <= 1, $"{bits}/{m}");
                Assert.Equal(0, split.Start(0));
                Assert.Equal(bits, split.Start(m - 1) + split.Bits(m - 1));
                for (int i = 1; i < m; i++)
                {
                    Assert.Equal(split.Start(i - 1) + split.Bits(i - 1), split.Start(i));
                }
            }
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => MihLayout.Split(64, 65));
        Assert.Throws<ArgumentOutOfRangeException>(() => MihLayout.Split(64, 0));
    }

    [Fact]
    public void Tables_hold_every_row_once_in_its_bucket_with_its_code_inline()
    {
        const int seed = 11;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(64);
        var codes = TestData.Codes(random, layout, 3000, pool: 40);
        var index = new MihIndex(codes.Block, MihLayout.Split(64, 3, maxDirectBits: 12));
        foreach (MihTable table in index.Tables)
        {
            Assert.Equal((1 << table.DirectBits) + 1, table.Offsets.Length);
            Assert.Equal(3000, table.Offsets[^1]);
            var seen = new bool[3000];
            for (int bucket = 0; bucket < 1 << table.DirectBits; bucket++)
            {
                for (int p = table.Offsets[bucket]; p < table.Offsets[bucket + 1]; p++)
                {
                    int row = table.Rows[p];
                    Assert.False(seen[row]);
                    seen[row] = true;
                    Assert.Equal(bucket, table.BucketOf(codes[row]));
                    Assert.Equal(codes[row][0], table.InlineCodes[p]);
                    Assert.True(p == table.Offsets[bucket] || table.Rows[p - 1] < row);
                }
            }
            Assert.All(seen, Assert.True);
        }
    }

    public static TheoryData<int, int> Widths() => new()
    {
        { 8, 1 }, { 16, 2 }, { 24, 3 }, { 32, 4 }, { 64, 5 }, { 72, 6 }, { 128, 7 }, { 200, 8 }, { 256, 9 },
    };

    /// <summary>The layouts each width is tested with: the chosen one and several forced substring counts.</summary>
    private static IEnumerable<MihLayout> Layouts(int bits, int rows)
    {
        yield return MihLayout.Choose(bits, rows);
        foreach (int m in new[] { 1, 2, 3, 5, bits / 4, bits }.Where(m => m >= 1 && m <= bits).Distinct())
        {
            // Wide substrings get 12 direct bits (filtering the rest) so the tables stay small and a
            // large k or radius does not walk 2^24 buckets per ring; the 24-bit case has its own test.
            yield return MihLayout.Split(bits, m, maxDirectBits: 12);
        }
    }

    private static IEnumerable<(int Rows, int Pool)> Datasets() =>
        [(0, 0), (1, 0), (100, 0), (100, 5), (5000, 0), (5000, 30)];

    private static List<ulong[]> Queries(Random random, CodeLayout layout, PackedCodes codes)
    {
        var queries = new List<ulong[]> { TestData.RandomCode(random, layout), TestData.RandomCode(random, layout) };
        for (int i = 0; i < 3 && codes.Count > 0; i++)
        {
            ulong[] q = codes[random.Next(codes.Count)].ToArray();
            for (int f = random.Next(4); f > 0; f--)
            {
                int bit = random.Next(layout.CodeBits);
                q[bit / 64] ^= 1UL << (bit % 64);
            }
            queries.Add(q);
        }
        return queries;
    }


    [Theory]
    [MemberData(nameof(Widths))]
    public void Radius_equals_brute_force(int bits, int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        foreach ((int rows, int pool) in Datasets())
        {
            PackedCodes codes = TestData.Codes(random, layout, rows, pool);
            List<ulong[]> queries = Queries(random, layout, codes);
            foreach (MihLayout split in Layouts(bits, rows))
            {
                var index = new MihIndex(codes.Block, split);
                foreach (ulong[] query in queries)
                {
                    Neighbor[] all = TestData.BruteNeighbors(codes, query);
                    int[] radii = [0, 1, 2, 3, 5, bits / 8, bits / 4, bits / 2, random.Next(bits / 2 + 1)];
                    foreach (int r in radii.Distinct())
                    {
                        Neighbor[] expected = all.Where(n => n.Distance <= r).ToArray();
                        foreach (MihThresholds thresholds in Enum.GetValues<MihThresholds>())
                        {
                            index.Thresholds = thresholds;
                            index.AdaptiveFromPostings = random.Next(64); // auto: either rule, depending on the query's buckets
                            index.AdaptiveFromSkew = random.Next(3);
                            TestData.AssertSameNeighbors(expected, index.Radius(query, r), $"{rows} rows pool {pool}, {split}, r {r}, {thresholds} from {index.AdaptiveFromPostings}");
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Most codes share substring 0 with the query, so its bucket in table 0 is crowded: adaptive
    /// thresholds leave that table out (or low) and read a fraction of the pigeonhole rule's postings,
    /// with the same answers, and the estimate is the reads the search makes.
    /// </summary>
    [Theory]
    [InlineData(2, 31)]
    [InlineData(3, 32)]
    [InlineData(6, 33)]
    [InlineData(9, 34)]
    public void Adaptive_thresholds_avoid_a_crowded_substring_and_equal_brute_force(int radius, int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(64);
        var codes = new PackedCodes(layout, 20_000);
        for (int i = 0; i < 20_000; i++)
        {
            ulong code = (ulong)random.NextInt64() ^ ((ulong)random.Next(4) << 62);
            codes.Add([i % 5 == 0 ? code : code & ~0xFFFFUL]); // 80% have substring 0 (bits 0..15) all zero
        }
        var index = new MihIndex(codes.Block, MihLayout.Split(64, 4));
        for (int q = 0; q < 8; q++)
        {
            ulong[] query = [q < 4 ? codes[random.Next(codes.Count)][0] & ~0xFFFFUL : (ulong)random.NextInt64() & ~0xFFFFUL];
            Neighbor[] expected = TestData.BruteNeighbors(codes, query).Where(n => n.Distance <= radius).ToArray();
            var reads = new Dictionary<MihThresholds, (MihEstimate Estimate, long Postings)>();
            foreach (MihThresholds thresholds in new[] { MihThresholds.Adaptive, MihThresholds.Pigeonhole })
            {
                index.Thresholds = thresholds;
                var sink = new CollectingSink(new List<Neighbor>());
                var counters = default(MihCounters);
                index.Radius(query, radius, ref sink, ref counters);
                sink.Rows.Sort();
                TestData.AssertSameNeighbors(expected, [.. sink.Rows], $"query {q}, r {radius}, {thresholds}");
                MihEstimate estimate = index.EstimateRadius(query, radius);
                Assert.True(estimate.Exact);
                Assert.Equal(counters.Probes, estimate.Probes);
                Assert.Equal(counters.Postings, estimate.Postings);
                reads[thresholds] = (estimate, counters.Postings);
            }
            output.WriteLine($"query {q}: postings adaptive {reads[MihThresholds.Adaptive].Postings}, pigeonhole {reads[MihThresholds.Pigeonhole].Postings}");
            Assert.True(reads[MihThresholds.Adaptive].Postings * 4 < reads[MihThresholds.Pigeonhole].Postings,
                $"query {q}: adaptive read {reads[MihThresholds.Adaptive].Postings} postings, pigeonhole {reads[MihThresholds.Pigeonhole].Postings}");
        }
    }

    /// <summary>
    /// Auto thresholds on 128-bit codes take adaptive thresholds' reads for queries whose home bucket is crowded and the
    /// pigeonhole rule's for the others; on codes of one word always the pigeonhole rule's. Answers equal brute force, and the estimate is the reads the search makes.
    /// </summary>
    [Theory]
    [InlineData(3, 41)]
    [InlineData(7, 42)]
    [InlineData(12, 43)]
    public void Auto_thresholds_switch_to_adaptive_where_the_pigeonhole_buckets_are_crowded(int radius, int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        foreach (int bits in new[] { 128, 64 })
        {
            var layout = new CodeLayout(bits);
            var codes = new PackedCodes(layout, 20_000);
            for (int i = 0; i < 20_000; i++)
            {
                ulong[] code = [.. Enumerable.Range(0, layout.WordsPerCode).Select(_ => (ulong)random.NextInt64())];
                code[0] = i % 5 == 0 ? code[0] : code[0] & ~0xFFFFUL; // 80% have bits 0..15 all zero: a crowded first substring
                codes.Add(code);
            }
            var index = new MihIndex(codes.Block, MihLayout.Split(bits, bits / 16), filterWords: bits > 64);
            for (int q = 0; q < 6; q++)
            {
                ulong[] query = [.. codes[random.Next(codes.Count)]];
                query[0] = q % 2 == 0 ? query[0] & ~0xFFFFUL : query[0] | 0xFFFFUL; // even queries fall in the crowded bucket, odd ones far from it
                Neighbor[] expected = TestData.BruteNeighbors(codes, query).Where(n => n.Distance <= radius).ToArray();
                var reads = new Dictionary<MihThresholds, MihCounters>();
                foreach (MihThresholds thresholds in Enum.GetValues<MihThresholds>())
                {
                    index.Thresholds = thresholds;
                    var sink = new CollectingSink(new List<Neighbor>());
                    var counters = default(MihCounters);
                    index.Radius(query, radius, ref sink, ref counters);
                    sink.Rows.Sort();
                    TestData.AssertSameNeighbors(expected, [.. sink.Rows], $"{bits} bits, query {q}, r {radius}, {thresholds}");
                    MihEstimate estimate = index.EstimateRadius(query, radius);
                    Assert.Equal((true, counters.Probes, counters.Postings), (estimate.Exact, estimate.Probes, estimate.Postings));
                    reads[thresholds] = counters;
                }
                MihCounters pigeonhole = reads[MihThresholds.Pigeonhole];
                bool crowded = bits > 64 && q % 2 == 0;
                output.WriteLine($"{bits} bits, query {q}: postings pigeonhole {pigeonhole.Postings}, adaptive {reads[MihThresholds.Adaptive].Postings}, auto {reads[MihThresholds.Auto].Postings}");
                Assert.Equal(crowded ? reads[MihThresholds.Adaptive] : pigeonhole, reads[MihThresholds.Auto]);
                Assert.True(!crowded || reads[MihThresholds.Adaptive].Postings * 4 < pigeonhole.Postings, $"query {q}: adaptive should read far fewer postings");
            }
        }
    }

    private readonly struct CollectingSink(List<Neighbor> rows) : IMihRadiusSink
    {
        public List<Neighbor> Rows { get; } = rows;

        public void Accept(int row, int distance) => Rows.Add(new Neighbor(row, distance));
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Knn_equals_brute_force(int bits, int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed + 100);
        var layout = new CodeLayout(bits);
        foreach ((int rows, int pool) in Datasets())
        {
            PackedCodes codes = TestData.Codes(random, layout, rows, pool);
            List<ulong[]> queries = Queries(random, layout, codes);
            foreach (MihLayout split in Layouts(bits, rows))
            {
                var index = new MihIndex(codes.Block, split);
                foreach (ulong[] query in queries)
                {
                    Neighbor[] all = TestData.BruteNeighbors(codes, query);
                    foreach (int k in new[] { 1, 10, rows - 1, rows, rows + 5 }.Where(k => k >= 0).Distinct())
                    {
                        TestData.AssertSameNeighbors(all.Take(k).ToArray(), index.Knn(query, k), $"{rows} rows pool {pool}, {split}, k {k}");
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(64, 21)]
    [InlineData(128, 22)]
    [InlineData(200, 23)]
    public void Deleted_rows_filtered_by_the_sink_give_brute_force_over_the_kept_rows(int bits, int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        PackedCodes codes = TestData.Codes(random, layout, 4000, pool: 20);
        bool[] deleted = Enumerable.Range(0, codes.Count).Select(_ => random.Next(3) == 0).ToArray();
        foreach (MihLayout split in new[] { MihLayout.Choose(bits, codes.Count), MihLayout.Split(bits, 3, 12) })
        {
            var index = new MihIndex(codes.Block, split);
            foreach (ulong[] query in Queries(random, layout, codes))
            {
                Neighbor[] kept = TestData.BruteNeighbors(codes, query, row => !deleted[row]);
                foreach (int r in new[] { 0, 2, 5, bits / 4, bits / 2 })
                {
                    var results = new List<Neighbor>();
                    var sink = new KeptRadius(deleted, results);
                    index.Radius(query, r, ref sink);
                    results.Sort();
                    TestData.AssertSameNeighbors(kept.Where(n => n.Distance <= r).ToArray(), [.. results], $"{split}, r {r}");
                }
                foreach (int k in new[] { 1, 10, 100, kept.Length, codes.Count })
                {
                    TestData.AssertSameNeighbors(kept.Take(k).ToArray(), index.Knn(query, k, new NotDeleted(deleted)), $"{split}, k {k}");
                }
            }
        }
    }

    [Fact]
    public void Substrings_wider_than_24_bits_address_their_top_24_and_filter_the_rest()
    {
        const int seed = 41;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(64);
        PackedCodes codes = TestData.Codes(random, layout, 5000, pool: 50);
        var index = new MihIndex(codes.Block, MihLayout.Split(64, 2));
        Assert.All(index.Tables, t => Assert.Equal((24, 8), (t.DirectBits, t.FilteredBits)));
        foreach (ulong[] query in Queries(random, layout, codes).Skip(2))
        {
            Neighbor[] all = TestData.BruteNeighbors(codes, query);
            for (int r = 0; r <= 6; r++)
            {
                TestData.AssertSameNeighbors(all.Where(n => n.Distance <= r).ToArray(), index.Radius(query, r), $"r {r}");
            }
            foreach (int k in new[] { 1, 10, 60 })
            {
                TestData.AssertSameNeighbors(all.Take(k).ToArray(), index.Knn(query, k), $"k {k}");
            }
        }
    }

    [Fact]
    public void Radius_past_the_code_width_returns_every_row_and_a_wrong_query_is_rejected()
    {
        const int seed = 31;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(72);
        PackedCodes codes = TestData.Codes(random, layout, 300);
        var index = new MihIndex(codes.Block);
        ulong[] query = TestData.RandomCode(random, layout);
        TestData.AssertSameNeighbors(TestData.BruteNeighbors(codes, query), index.Radius(query, 1000), "r 1000");
        Assert.Throws<ArgumentException>(() => index.Radius(new ulong[1], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Radius(query, -1));
        Assert.Empty(index.Knn(query, 0));
    }
}
