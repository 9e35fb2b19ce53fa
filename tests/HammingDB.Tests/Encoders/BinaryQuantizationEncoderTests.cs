using HammingDB.Encoders;
using Xunit.Abstractions;

namespace HammingDB.Tests.Encoders;

public class BinaryQuantizationEncoderTests(ITestOutputHelper output)
{
    // Four rows of dimension 10: column 0 is {1, 2, 3, 10} (mean 4, median 2.5), column 1 is
    // {-4, -1, 0, 1} (mean -1, median -0.5), columns 2..9 are {0, 0, 0, 4} (mean 1, median 0).
    private static readonly float[] Rows =
    [
        1, -4, 0, 0, 0, 0, 0, 0, 0, 0,
        2, -1, 0, 0, 0, 0, 0, 0, 0, 0,
        3, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        10, 1, 4, 4, 4, 4, 4, 4, 4, 4,
    ];

    private static BinaryQuantizationEncoder Train(QuantizationThreshold threshold, float[] rows, int dimension = 10) =>
        (BinaryQuantizationEncoder)EncoderTraining.Train(
            new EncoderSpec(EncoderKind.BinaryQuantization, 0) { BinaryQuantization = new BinaryQuantizationOptions { Threshold = threshold } },
            new TrainingSet(rows, dimension));

    [Fact]
    public void Thresholds_are_zero_the_mean_or_the_median_of_each_dimension()
    {
        output.WriteLine("seed 0 (no randomness)");
        Assert.Equal(new float[10], Train(QuantizationThreshold.Sign, Rows).Thresholds.ToArray());
        Assert.Equal(new float[] { 4, -1, 1, 1, 1, 1, 1, 1, 1, 1 }, Train(QuantizationThreshold.Mean, Rows).Thresholds.ToArray());
        Assert.Equal(new float[] { 2.5f, -0.5f, 0, 0, 0, 0, 0, 0, 0, 0 }, Train(QuantizationThreshold.Median, Rows).Thresholds.ToArray());
        // An odd count takes the middle value.
        Assert.Equal(new float[] { 2, -1, 0, 0, 0, 0, 0, 0, 0, 0 }, Train(QuantizationThreshold.Median, Rows[..30]).Thresholds.ToArray());
    }

    [Fact]
    public void Each_bit_is_set_iff_the_component_is_above_its_threshold_and_the_width_is_the_dimension_rounded_up_to_8()
    {
        output.WriteLine("seed 0 (no randomness)");
        float[] vector = [3, -0.75f, 0.5f, 0, 2, -1, 1, 1.5f, 0, 7];
        var code = new ulong[1];

        var sign = Train(QuantizationThreshold.Sign, Rows);
        Assert.Equal(16, sign.CodeBits);
        Assert.Equal(16, sign.Spec!.CodeBits);
        sign.Encode(vector, code);
        Assert.Equal(Bits(0, 2, 4, 6, 7, 9), code[0]);  // strictly positive components; zero sets no bit

        Train(QuantizationThreshold.Mean, Rows).Encode(vector, code);
        Assert.Equal(Bits(1, 4, 7, 9), code[0]);  // 3 <= 4; -0.75 > -1; 0.5 <= 1; 2 > 1; 1 <= 1; 1.5 > 1; 7 > 1

        Train(QuantizationThreshold.Median, Rows).Encode(vector, code);
        Assert.Equal(Bits(0, 2, 4, 6, 7, 9), code[0]);  // 3 > 2.5; -0.75 <= -0.5; then the sign

        // Widths: one bit per dimension, rounded up to a multiple of 8; the rest zero.
        foreach (int dimension in new[] { 1, 7, 8, 9, 63, 64, 65, 200 })
        {
            var encoder = Train(QuantizationThreshold.Sign, Enumerable.Repeat(1f, dimension).ToArray(), dimension);
            Assert.Equal((dimension + 7) / 8 * 8, encoder.CodeBits);
            ulong[] ones = encoder.EncodeMany(Enumerable.Repeat(1f, dimension).ToArray(), 1);
            Assert.Equal(dimension, ones.Sum(w => System.Numerics.BitOperations.PopCount(w)));
        }
    }

    [Fact]
    public void A_long_vector_takes_the_vector_path_and_agrees_with_the_definition()
    {
        const int seed = 41;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        const int dimension = 203;
        float[] rows = EncoderTestData.GaussianVectors(random, 50, dimension);
        var encoder = Train(QuantizationThreshold.Median, rows, dimension);
        float[] vectors = EncoderTestData.GaussianVectors(random, 20, dimension);
        ulong[] codes = encoder.EncodeMany(vectors, 20);
        int words = encoder.Layout.WordsPerCode;
        for (int i = 0; i < 20; i++)
        {
            for (int j = 0; j < words * 64; j++)
            {
                bool expected = j < dimension && vectors[i * dimension + j] > encoder.Thresholds[j];
                Assert.Equal(expected, ((codes[i * words + j / 64] >> (j % 64)) & 1) == 1);
            }
        }
    }

    private static ulong Bits(params int[] bits) => bits.Aggregate(0UL, (word, bit) => word | (1UL << bit));
}
