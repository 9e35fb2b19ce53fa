using HammingDB.Kernels;
using Xunit.Abstractions;

namespace HammingDB.Tests.Kernels;

public class DistanceKernelTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(TestData.AllWidthsData), MemberType = typeof(TestData))]
    public void Every_path_equals_the_oracle_at_every_width(int bits)
    {
        int seed = 1000 + bits;
        output.WriteLine($"seed {seed}; ISA levels {string.Join(",", TestData.SupportedLevels())}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        // 53 codes: whole groups of 16 and 8 plus a tail; the slice from row 1 starts off the 64-byte alignment.
        PackedCodes codes = TestData.Codes(random, layout, 53);
        ulong[] query = TestData.RandomCode(random, layout);
        foreach (int offset in new[] { 0, 1, 3 })
        {
            CodeBlock block = codes.Block.Slice(offset, codes.Count - offset);
            var expected = new int[block.Count];
            for (int row = 0; row < block.Count; row++)
            {
                expected[row] = TestData.OracleDistance(block[row], query);
            }
            foreach (IsaLevel isa in TestData.SupportedLevels())
            {
                var actual = new int[block.Count];
                HammingDistance.ComputeAll(block, query, actual, isa);
                Assert.True(expected.SequenceEqual(actual), $"{isa} differs from the oracle at {bits} bits, offset {offset}");
                for (int row = 0; row < block.Count; row += 7)
                {
                    Assert.Equal(expected[row], HammingDistance.Compute(block[row], query, isa));
                }
            }
        }
    }

    [Fact]
    public void Extreme_codes_give_zero_and_full_distance()
    {
        foreach (int bits in new[] { 8, 64, 72, 128, 256, 512, 8192 })
        {
            var layout = new CodeLayout(bits);
            var zeros = new ulong[layout.WordsPerCode];
            ulong[] ones = Enumerable.Repeat(ulong.MaxValue, layout.WordsPerCode).ToArray();
            ones[^1] = layout.LastWordMask;
            var codes = new PackedCodes(layout, 40);
            for (int i = 0; i < 40; i++)
            {
                codes.Add(i % 2 == 0 ? zeros : ones);
            }
            foreach (IsaLevel isa in TestData.SupportedLevels())
            {
                var distances = new int[40];
                HammingDistance.ComputeAll(codes.Block, ones, distances, isa);
                for (int i = 0; i < 40; i++)
                {
                    Assert.Equal(i % 2 == 0 ? bits : 0, distances[i]);
                }
            }
        }
    }

    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    [InlineData(200)]
    [InlineData(256)]
    [InlineData(512)]
    [InlineData(1024)]
    public void Batch_distance_matrix_equals_the_oracle(int bits)
    {
        int seed = 2000 + bits;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        PackedCodes codes = TestData.Codes(random, layout, 301);
        PackedCodes queries = TestData.Codes(random, layout, 9);
        foreach (IsaLevel isa in TestData.SupportedLevels())
        {
            var distances = new int[queries.Count * codes.Count];
            // A tile of 4 KiB forces several tiles even at 64 bits.
            HammingDistance.ComputeAll(codes.Block, queries.Block, distances, new SearchOptions { Isa = isa, TileBytes = 4096 });
            for (int q = 0; q < queries.Count; q++)
            {
                for (int row = 0; row < codes.Count; row++)
                {
                    Assert.Equal(TestData.OracleDistance(codes[row], queries[q]), distances[q * codes.Count + row]);
                }
            }
        }
    }

    [Fact]
    public void Pair_distance_rejects_codes_of_different_lengths()
    {
        var e = Assert.Throws<ArgumentException>(() => HammingDistance.Compute(new ulong[2], new ulong[3]));
        Assert.Contains("differ in length", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Distance_matrix_rejects_a_short_output_span()
    {
        var layout = new CodeLayout(64);
        PackedCodes codes = TestData.Codes(new Random(3), layout, 10);
        Assert.Throws<ArgumentException>(() => HammingDistance.ComputeAll(codes.Block, new ulong[1], new int[9]));
    }
}
