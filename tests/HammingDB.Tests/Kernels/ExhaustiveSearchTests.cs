using HammingDB.Kernels;
using Xunit.Abstractions;

namespace HammingDB.Tests.Kernels;

public class ExhaustiveSearchTests(ITestOutputHelper output)
{
    public static TheoryData<int, int> WidthsAndPools()
    {
        var data = new TheoryData<int, int>();
        foreach (int bits in new[] { 8, 16, 24, 56, 64, 72, 128, 136, 192, 256, 320, 384, 512, 520, 768, 1024, 2048 })
        {
            data.Add(bits, 0);   // random codes
            data.Add(bits, 5);   // few distinct codes: many ties
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(WidthsAndPools))]
    public void Knn_equals_brute_force_on_every_path(int bits, int pool)
    {
        int seed = 3000 + bits * 10 + pool;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        PackedCodes codes = TestData.Codes(random, layout, 211, pool);
        for (int trial = 0; trial < 6; trial++)
        {
            ulong[] query = trial % 2 == 0 ? TestData.RandomCode(random, layout) : codes[random.Next(codes.Count)].ToArray();
            foreach (int k in new[] { 1, 2, 10, 37, 211, 500 })
            {
                Neighbor[] expected = TestData.OracleKnn(codes, query, k);
                foreach (IsaLevel isa in TestData.SupportedLevels())
                {
                    Neighbor[] actual = ExhaustiveSearch.Knn(codes, query, k, new SearchOptions { Isa = isa });
                    Assert.True(expected.SequenceEqual(actual), $"kNN k={k} {isa} trial {trial}: expected [{Show(expected)}] got [{Show(actual)}]");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(WidthsAndPools))]
    public void Radius_equals_brute_force_on_every_path(int bits, int pool)
    {
        int seed = 4000 + bits * 10 + pool;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        PackedCodes codes = TestData.Codes(random, layout, 173, pool);
        ulong[] near = codes[17].ToArray();
        ulong[] far = TestData.RandomCode(random, layout);
        foreach (ulong[] query in new[] { near, far })
        {
            foreach (int radius in new[] { 0, 1, 2, bits / 4, bits / 2 - 3, bits / 2, bits / 2 + 3, bits, bits + 5, int.MaxValue })
            {
                if (radius < 0)
                {
                    continue;
                }
                Neighbor[] expected = TestData.OracleRadius(codes, query, radius);
                foreach (IsaLevel isa in TestData.SupportedLevels())
                {
                    Neighbor[] actual = ExhaustiveSearch.Radius(codes, query, radius, new SearchOptions { Isa = isa });
                    Assert.True(expected.SequenceEqual(actual), $"radius {radius} {isa}: expected {expected.Length} rows, got {actual.Length}");
                }
            }
        }
    }

    [Theory]
    [InlineData(64, 0)]
    [InlineData(64, 3)]
    [InlineData(128, 0)]
    [InlineData(256, 4)]
    [InlineData(512, 0)]
    [InlineData(96, 2)]
    public void Batches_equal_single_queries_on_every_path(int bits, int pool)
    {
        int seed = 5000 + bits + pool;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        PackedCodes codes = TestData.Codes(random, layout, 1237, pool);
        PackedCodes queries = TestData.Codes(random, layout, 13, pool);
        foreach (IsaLevel isa in TestData.SupportedLevels())
        {
            foreach (int threads in new[] { 1, 3 })
            {
                var options = new SearchOptions { Isa = isa, Threads = threads, TileBytes = 4096 };
                Neighbor[][] knn = ExhaustiveSearch.KnnBatch(codes, queries, 10, options);
                Neighbor[][] radius = ExhaustiveSearch.RadiusBatch(codes, queries, bits / 3, options);
                for (int q = 0; q < queries.Count; q++)
                {
                    Assert.Equal(TestData.OracleKnn(codes, queries[q], 10), knn[q]);
                    Assert.Equal(TestData.OracleRadius(codes, queries[q], bits / 3), radius[q]);
                }
            }
        }
    }

    [Theory]
    [InlineData(64)]
    [InlineData(256)]
    [InlineData(200)]
    public void One_query_split_over_threads_equals_brute_force(int bits)
    {
        int seed = 6000 + bits;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        // Enough rows for several thread parts (16384 rows each), with a ragged end; a pool gives ties across parts.
        PackedCodes codes = TestData.Codes(random, layout, 70_001, pool: 50);
        ulong[] query = codes[12345].ToArray();
        foreach (IsaLevel isa in TestData.SupportedLevels())
        {
            var options = new SearchOptions { Isa = isa, Threads = 4 };
            Assert.Equal(TestData.OracleKnn(codes, query, 100), ExhaustiveSearch.Knn(codes, query, 100, options));
            Assert.Equal(TestData.OracleKnn(codes, query, 100_000), ExhaustiveSearch.Knn(codes, query, 100_000, options));
            Assert.Equal(TestData.OracleRadius(codes, query, 2), ExhaustiveSearch.Radius(codes, query, 2, options));
        }
    }

    [Fact]
    public void Thread_parts_cover_every_row_once_on_aligned_boundaries()
    {
        foreach (int rows in new[] { 0, 1, 63, 64, 65, 16384 * 3 + 5, 1_000_003 })
        {
            foreach (int threads in new[] { 1, 2, 3, 7 })
            {
                int parts = ExhaustiveSearch.PartCount(rows, threads);
                int next = 0;
                for (int part = 0; part < parts; part++)
                {
                    (int start, int count) = ExhaustiveSearch.PartRange(rows, parts, part);
                    Assert.Equal(next, start);
                    Assert.Equal(0, start % 64);
                    next = start + count;
                }
                Assert.Equal(rows, next);
            }
        }
    }

    [Fact]
    public void Empty_block_gives_empty_results()
    {
        var layout = new CodeLayout(64);
        var codes = new PackedCodes(layout, 0);
        Assert.Empty(ExhaustiveSearch.Knn(codes, new ulong[1], 5));
        Assert.Empty(ExhaustiveSearch.Radius(codes, new ulong[1], 64));
    }

    [Fact]
    public void Bad_arguments_throw_clear_argument_exceptions()
    {
        var layout = new CodeLayout(72);
        PackedCodes codes = TestData.Codes(new Random(7), layout, 20);
        var query = new ulong[2];
        var k = Assert.Throws<ArgumentOutOfRangeException>(() => ExhaustiveSearch.Knn(codes, query, 0));
        Assert.Equal("k", k.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => ExhaustiveSearch.Knn(codes, query, -3));
        var r = Assert.Throws<ArgumentOutOfRangeException>(() => ExhaustiveSearch.Radius(codes, query, -1));
        Assert.Equal("radius", r.ParamName);
        var width = Assert.Throws<ArgumentException>(() => ExhaustiveSearch.Knn(codes, new ulong[1], 3));
        Assert.Contains("72-bit code takes 2 words; got 1", width.Message, StringComparison.Ordinal);
        var padding = Assert.Throws<ArgumentException>(() => ExhaustiveSearch.Knn(codes, new ulong[] { 0, 1UL << 8 }, 3));
        Assert.Contains("past bit 71", padding.Message, StringComparison.Ordinal);
        var other = TestData.Codes(new Random(8), new CodeLayout(64), 3);
        var mismatch = Assert.Throws<ArgumentException>(() => ExhaustiveSearch.KnnBatch(codes, other, 3));
        Assert.Contains("64-bit codes but the block holds 72-bit", mismatch.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => ExhaustiveSearch.Knn(codes, query, 3, new SearchOptions { Threads = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CodeLayout(12));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CodeLayout(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CodeLayout(8200));
    }

    private static string Show(Neighbor[] neighbors) => string.Join(" ", neighbors.Take(12).Select(n => $"{n.Id}:{n.Distance}"));
}
