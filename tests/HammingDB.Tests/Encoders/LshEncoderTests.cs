using HammingDB.Encoders;
using Xunit.Abstractions;

namespace HammingDB.Tests.Encoders;

public class LshEncoderTests(ITestOutputHelper output)
{
    /// <summary>
    /// Through the origin a Gaussian hyperplane separates two vectors at angle theta with probability
    /// theta / pi, for every pair (rotation invariance). Over P random pairs at each angle and B bits,
    /// the P x B indicators are pairwise uncorrelated (given the pair, bits use independent
    /// hyperplanes; given a hyperplane, pairs are independent; and either conditional mean is theta/pi),
    /// so the observed fraction has variance p(1 - p) / (P B). Tolerance: 4.5 standard deviations
    /// (about 0.007 at p = 1/2 with P = 400, B = 256), plus 1e-9 for the exact angles 0 and pi.
    /// </summary>
    [Fact]
    public void The_fraction_of_differing_bits_tracks_the_angle_over_pi()
    {
        const ulong seed = 11;
        const int dimension = 64, bits = 256, pairs = 400;
        output.WriteLine($"seed {seed}");
        var encoder = EncoderTraining.Train(new EncoderSpec(EncoderKind.Lsh, bits, seed), new TrainingSet(ReadOnlyMemory<float>.Empty, dimension));
        var random = new Random((int)seed);
        var codeA = new ulong[bits / 64];
        var codeB = new ulong[bits / 64];
        foreach (double degrees in new[] { 0.0, 10, 30, 45, 60, 90, 120, 150, 170, 180 })
        {
            double theta = degrees * Math.PI / 180;
            long differing = 0;
            for (int pair = 0; pair < pairs; pair++)
            {
                (float[] a, float[] b) = PairAtAngle(random, dimension, theta);
                encoder.Encode(a, codeA);
                encoder.Encode(b, codeB);
                differing += TestData.OracleDistance(codeA, codeB);
            }
            double p = theta / Math.PI;
            double observed = (double)differing / (pairs * bits);
            double tolerance = 4.5 * Math.Sqrt(p * (1 - p) / (pairs * bits)) + 1e-9;
            output.WriteLine($"angle {degrees,3} deg: expected {p:F4}, observed {observed:F4}, tolerance {tolerance:F4}");
            Assert.InRange(observed, p - tolerance, p + tolerance);
        }
    }

    /// <summary>A unit vector and a vector at exactly <paramref name="theta"/> from it, of random length (SimHash ignores length).</summary>
    private static (float[] A, float[] B) PairAtAngle(Random random, int dimension, double theta)
    {
        double[] u = Enumerable.Range(0, dimension).Select(_ => EncoderTestData.Gaussian(random)).ToArray();
        double[] v = Enumerable.Range(0, dimension).Select(_ => EncoderTestData.Gaussian(random)).ToArray();
        double uNorm = Math.Sqrt(u.Sum(x => x * x));
        for (int j = 0; j < dimension; j++)
        {
            u[j] /= uNorm;
        }
        double along = u.Zip(v, (x, y) => x * y).Sum();
        for (int j = 0; j < dimension; j++)
        {
            v[j] -= along * u[j];
        }
        double vNorm = Math.Sqrt(v.Sum(x => x * x));
        double length = 0.5 + random.NextDouble() * 4;
        var a = new float[dimension];
        var b = new float[dimension];
        for (int j = 0; j < dimension; j++)
        {
            a[j] = (float)u[j];
            b[j] = (float)(length * (Math.Cos(theta) * u[j] + Math.Sin(theta) * v[j] / vNorm));
        }
        return (a, b);
    }

    /// <summary>
    /// Data far from the origin (every coordinate about 10): through the origin most hyperplanes put
    /// nearly every row on one side; centered on the sample mean, each bit splits the rows about evenly.
    /// </summary>
    [Fact]
    public void Centering_balances_the_bits_of_data_far_from_the_origin()
    {
        const ulong seed = 12;
        output.WriteLine($"seed {seed}");
        const int rows = 2000, dimension = 32, bits = 64;
        float[] vectors = EncoderTestData.GaussianVectors(new Random((int)seed), rows, dimension, scale: 1, offset: 10);
        var set = new TrainingSet(vectors, dimension);
        double Imbalance(bool center)
        {
            var encoder = EncoderTraining.Train(new EncoderSpec(EncoderKind.Lsh, bits, seed) { Lsh = new LshOptions { Center = center } }, set);
            Assert.Equal(center, encoder.Spec!.Lsh.Center);
            ulong[] codes = encoder.EncodeMany(vectors, rows);
            double worst = 0;
            for (int bit = 0; bit < bits; bit++)
            {
                int ones = 0;
                for (int i = 0; i < rows; i++)
                {
                    ones += (int)((codes[i] >> bit) & 1);
                }
                worst = Math.Max(worst, Math.Abs((double)ones / rows - 0.5));
            }
            return worst;
        }
        double uncentered = Imbalance(false), centered = Imbalance(true);
        output.WriteLine($"largest |fraction of ones - 1/2| over bits: through the origin {uncentered:F3}, centered {centered:F3}");
        Assert.True(uncentered > 0.45, "through the origin, some bit is nearly constant on offset data");
        Assert.True(centered < 0.1, "centered, every bit splits the rows about evenly");
    }

    [Fact]
    public void The_training_mean_encodes_to_zero_when_centered_and_uncentered_LSH_needs_no_rows()
    {
        const ulong seed = 13;
        output.WriteLine($"seed {seed}");
        var set = new TrainingSet(new float[] { 1, 2, 3, 5, 6, 7 }, 3);
        var centered = EncoderTraining.Train(new EncoderSpec(EncoderKind.Lsh, 128, seed) { Lsh = new LshOptions { Center = true } }, set);
        var code = new ulong[2];
        centered.Encode([3, 4, 5], code);
        Assert.Equal(new ulong[2], code);

        var empty = EncoderTraining.Train(new EncoderSpec(EncoderKind.Lsh, 16, seed), new TrainingSet(ReadOnlyMemory<float>.Empty, 5));
        Assert.Equal((5, 16, EncoderKind.Lsh, 0L), (empty.Dimension, empty.CodeBits, empty.Kind, ((LshEncoder)empty).TrainingRows));
    }
}
