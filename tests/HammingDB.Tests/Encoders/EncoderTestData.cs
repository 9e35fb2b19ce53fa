using System.IO.Compression;
using System.Numerics;
using HammingDB.Encoders;

namespace HammingDB.Tests.Encoders;

/// <summary>Seeded synthetic data for the encoder tests, a brute-force Hamming kNN, and the shared data files.</summary>
internal static class EncoderTestData
{
    public static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    public static float[] GaussianVectors(Random random, int rows, int dimension, double scale = 1, double offset = 0)
    {
        var vectors = new float[rows * dimension];
        for (int i = 0; i < vectors.Length; i++)
        {
            vectors[i] = (float)(offset + scale * Gaussian(random));
        }
        return vectors;
    }

    /// <summary>
    /// <paramref name="clusters"/> clusters whose centers (standard normal times
    /// <paramref name="spread"/>) differ only in the first <paramref name="signalDimensions"/>
    /// coordinates; every coordinate gets N(0, noise^2). The label of a row is its cluster.
    /// </summary>
    public static (float[] Vectors, int[] Labels) PlantedClusters(Random random, int rows, int dimension, int clusters,
        int signalDimensions, double spread, double noise)
    {
        double[][] centers = Enumerable.Range(0, clusters)
            .Select(_ => Enumerable.Range(0, signalDimensions).Select(_ => spread * Gaussian(random)).ToArray()).ToArray();
        var vectors = new float[rows * dimension];
        var labels = new int[rows];
        for (int i = 0; i < rows; i++)
        {
            int c = random.Next(clusters);
            labels[i] = c;
            for (int j = 0; j < dimension; j++)
            {
                vectors[i * dimension + j] = (float)((j < signalDimensions ? centers[c][j] : 0) + noise * Gaussian(random));
            }
        }
        return (vectors, labels);
    }

    /// <summary>
    /// Labelled data where the label shows only in a few low-variance coordinates while unlabelled
    /// clusters dominate the distances: each row's label picks a center in the first
    /// <paramref name="signalDimensions"/> coordinates (spread 1, noise 0.3), and an independent
    /// nuisance cluster (spread <paramref name="nuisanceSpread"/>, noise 1) fills the rest.
    /// </summary>
    public static (float[] Vectors, int[] Labels) LabelsAgainstNuisance(Random random, int rows, int dimension, int classes,
        int signalDimensions, int nuisanceClusters, double nuisanceSpread)
    {
        double[][] classCenters = Enumerable.Range(0, classes)
            .Select(_ => Enumerable.Range(0, signalDimensions).Select(_ => Gaussian(random)).ToArray()).ToArray();
        double[][] nuisanceCenters = Enumerable.Range(0, nuisanceClusters)
            .Select(_ => Enumerable.Range(0, dimension - signalDimensions).Select(_ => nuisanceSpread * Gaussian(random)).ToArray()).ToArray();
        var vectors = new float[rows * dimension];
        var labels = new int[rows];
        for (int i = 0; i < rows; i++)
        {
            int c = random.Next(classes);
            int nuisance = random.Next(nuisanceClusters);
            labels[i] = c;
            for (int j = 0; j < dimension; j++)
            {
                double value = j < signalDimensions
                    ? classCenters[c][j] + 0.3 * Gaussian(random)
                    : nuisanceCenters[nuisance][j - signalDimensions] + Gaussian(random);
                vectors[i * dimension + j] = (float)value;
            }
        }
        return (vectors, labels);
    }

    /// <summary>
    /// Mean over queries of the fraction of each query's <paramref name="k"/> nearest database codes
    /// (Hamming, ties by row) that share its label. With <paramref name="excludeSelf"/>, query i is
    /// database row i and is left out of its own neighbours.
    /// </summary>
    public static double PrecisionAtK(ulong[] database, int[] databaseLabels, ulong[] queries, int[] queryLabels, int words, int k, bool excludeSelf = false)
    {
        int rows = databaseLabels.Length;
        var keys = new long[rows];
        double total = 0;
        for (int q = 0; q < queryLabels.Length; q++)
        {
            ReadOnlySpan<ulong> query = queries.AsSpan(q * words, words);
            for (int r = 0; r < rows; r++)
            {
                int distance = 0;
                for (int w = 0; w < words; w++)
                {
                    distance += BitOperations.PopCount(database[r * words + w] ^ query[w]);
                }
                keys[r] = excludeSelf && r == q ? long.MaxValue : ((long)distance << 32) | (uint)r;
            }
            Array.Sort(keys);
            int hits = 0;
            for (int j = 0; j < k; j++)
            {
                hits += databaseLabels[(int)(keys[j] & 0xFFFFFFFF)] == queryLabels[q] ? 1 : 0;
            }
            total += (double)hits / k;
        }
        return total / queryLabels.Length;
    }

    /// <summary>Precision@k by label of a trained encoder, every row of <paramref name="vectors"/> a query against the others.</summary>
    public static double SelfPrecisionAtK(VectorEncoder encoder, float[] vectors, int[] labels, int queries, int k)
    {
        ulong[] codes = encoder.EncodeMany(vectors, labels.Length);
        int words = encoder.Layout.WordsPerCode;
        return PrecisionAtK(codes, labels, codes.AsSpan(0, queries * words).ToArray(), labels[..queries], words, k, excludeSelf: true);
    }

    public static string SharedData(string relative)
    {
        string path = Path.Combine(ArchitectureTests.RepositoryRoot(), "..", "shared", "data", relative);
        Assert.True(File.Exists(path), $"{path} is missing (../shared/data beside the repository; see its README.md)");
        return path;
    }

    private static byte[] ReadGzip(string path)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        return memory.ToArray();
    }

    /// <summary>An .hdbf file (gzip): magic HDBFVECS, u32 dim, u32 0, u64 count, u64 0, then row-major float32.</summary>
    public static (float[] Vectors, int Dimension, int Count) ReadVectors(string path, int maxRows = int.MaxValue)
    {
        byte[] bytes = ReadGzip(path);
        Assert.Equal("HDBFVECS", System.Text.Encoding.ASCII.GetString(bytes, 0, 8));
        int dimension = BitConverter.ToInt32(bytes, 8);
        int count = (int)Math.Min(maxRows, BitConverter.ToInt64(bytes, 16));
        var vectors = new float[count * dimension];
        Buffer.BlockCopy(bytes, 32, vectors, 0, vectors.Length * 4);
        return (vectors, dimension, count);
    }

    /// <summary>A .labels file (gzip): magic HDBLABEL, u32 0, u32 0, u64 count, u64 0, then int32 per row.</summary>
    public static int[] ReadLabels(string path, int maxRows = int.MaxValue)
    {
        byte[] bytes = ReadGzip(path);
        Assert.Equal("HDBLABEL", System.Text.Encoding.ASCII.GetString(bytes, 0, 8));
        int count = (int)Math.Min(maxRows, BitConverter.ToInt64(bytes, 16));
        var labels = new int[count];
        Buffer.BlockCopy(bytes, 32, labels, 0, count * 4);
        return labels;
    }

    /// <summary>An <see cref="IProgress{T}"/> that runs on the reporting thread (Progress&lt;T&gt; posts elsewhere).</summary>
    public sealed class ProgressLog(Action<TrainingProgress>? onReport = null) : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> Reports { get; } = [];

        public void Report(TrainingProgress value)
        {
            Reports.Add(value);
            onReport?.Invoke(value);
        }
    }
}
