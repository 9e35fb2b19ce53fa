using HammingDB.Encoders;
using MathNet.Numerics.LinearAlgebra;
using Xunit.Abstractions;

namespace HammingDB.Tests.Encoders;

public class ItqEncoderTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(32, 32)]   // PCA to fewer components than the dimension
    [InlineData(16, 64)]   // the width exceeds the dimension: expansion, then rotation
    public void The_quantization_loss_never_rises_and_the_rotation_is_orthogonal(int dimension, int bits)
    {
        const ulong seed = 21;
        output.WriteLine($"seed {seed}");
        (float[] vectors, _) = EncoderTestData.PlantedClusters(new Random((int)seed), 600, dimension, 8, Math.Min(8, dimension), 2, 1);
        var progress = new EncoderTestData.ProgressLog();
        var encoder = (ItqEncoder)EncoderTraining.Train(new EncoderSpec(EncoderKind.Itq, bits, seed) { Itq = new ItqOptions { Iterations = 30 } },
            new TrainingSet(vectors, dimension), progress);

        double[] losses = encoder.LossHistory;
        Assert.Equal(31, losses.Length);
        output.WriteLine($"loss: start {losses[0]:F2}, after 1 {losses[1]:F2}, after 30 {losses[^1]:F2}");
        for (int i = 1; i < losses.Length; i++)
        {
            Assert.True(losses[i] <= losses[i - 1] * (1 + 1e-12), $"loss rose at iteration {i}: {losses[i - 1]} -> {losses[i]}");
        }
        Assert.True(losses[^1] < losses[0], "30 iterations lower the loss of a random rotation");
        Assert.Equal(losses, progress.Reports.Where(r => r.Loss is not null).Select(r => r.Loss!.Value));

        Matrix<double> rotation = encoder.Rotation!;
        Assert.Equal((bits, bits), (rotation.RowCount, rotation.ColumnCount));
        double offIdentity = (rotation.TransposeThisAndMultiply(rotation) - Matrix<double>.Build.DenseIdentity(bits)).Enumerate().Max(Math.Abs);
        Assert.True(offIdentity < 1e-9, $"R^T R differs from I by {offIdentity}");
        Assert.Equal(Math.Min(dimension, bits), encoder.PrincipalComponents);
    }

    /// <summary>
    /// 16 clusters that differ in 8 of 128 coordinates, isotropic noise in all: random hyperplanes
    /// spend most of their projection on noise, PCA finds the cluster subspace. Floors (measured ITQ
    /// 0.523 and LSH 0.197 at seed 22): ITQ precision@10 by cluster at least 0.45, and at least 0.15 above LSH.
    /// </summary>
    [Fact]
    public void On_planted_clusters_ITQ_recovers_the_cluster_better_than_LSH()
    {
        const ulong seed = 22;
        output.WriteLine($"seed {seed}");
        const int rows = 2000, dimension = 128, bits = 32;
        (float[] vectors, int[] labels) = EncoderTestData.PlantedClusters(new Random((int)seed), rows, dimension, 16, 8, 2, 1);
        var set = new TrainingSet(vectors, dimension);
        double itq = EncoderTestData.SelfPrecisionAtK(EncoderTraining.Train(new EncoderSpec(EncoderKind.Itq, bits, seed), set), vectors, labels, 300, 10);
        double lsh = EncoderTestData.SelfPrecisionAtK(EncoderTraining.Train(new EncoderSpec(EncoderKind.Lsh, bits, seed), set), vectors, labels, 300, 10);
        output.WriteLine($"precision@10 by cluster at {bits} bits: ITQ {itq:F3}, LSH {lsh:F3}");
        Assert.True(itq >= 0.45, $"ITQ {itq}");
        Assert.True(itq >= lsh + 0.15, $"ITQ {itq} vs LSH {lsh}");
    }

    /// <summary>
    /// Wider than the dimension (24 dimensions): the expansion keeps every principal component and
    /// spreads it over more bits, so 96-bit codes find the cluster at least as well as 24-bit ones.
    /// </summary>
    [Fact]
    public void Codes_wider_than_the_dimension_use_every_bit_and_do_not_lose_precision()
    {
        const ulong seed = 23;
        output.WriteLine($"seed {seed}");
        const int rows = 1500, dimension = 24;
        (float[] vectors, int[] labels) = EncoderTestData.PlantedClusters(new Random((int)seed), rows, dimension, 12, 12, 1.5, 1);
        var set = new TrainingSet(vectors, dimension);
        var narrow = EncoderTraining.Train(new EncoderSpec(EncoderKind.Itq, 24, seed), set);
        var wide = EncoderTraining.Train(new EncoderSpec(EncoderKind.Itq, 96, seed), set);
        double narrowPrecision = EncoderTestData.SelfPrecisionAtK(narrow, vectors, labels, 300, 10);
        double widePrecision = EncoderTestData.SelfPrecisionAtK(wide, vectors, labels, 300, 10);
        ulong[] codes = wide.EncodeMany(vectors, rows);
        int constantBits = 0;
        for (int bit = 0; bit < 96; bit++)
        {
            int ones = 0;
            for (int i = 0; i < rows; i++)
            {
                ones += (int)((codes[i * 2 + bit / 64] >> (bit % 64)) & 1);
            }
            constantBits += ones == 0 || ones == rows ? 1 : 0;
        }
        output.WriteLine($"precision@10: 24 bits {narrowPrecision:F3}, 96 bits {widePrecision:F3}; constant bits at 96: {constantBits}");
        Assert.Equal(0, constantBits);
        Assert.True(widePrecision >= narrowPrecision, $"96 bits {widePrecision} vs 24 bits {narrowPrecision}");
    }
}
