namespace HammingDB.Encoders.Internal;

/// <summary>Per-dimension statistics of a training sample, accumulated in double, rows in order (deterministic).</summary>
internal static class Statistics
{
    public static double[] MeanDouble(TrainingSet set)
    {
        var sum = new double[set.Dimension];
        for (int row = 0; row < set.Count; row++)
        {
            ReadOnlySpan<float> vector = set.Row(row);
            for (int j = 0; j < sum.Length; j++)
            {
                sum[j] += vector[j];
            }
        }
        if (set.Count > 0)
        {
            for (int j = 0; j < sum.Length; j++)
            {
                sum[j] /= set.Count;
            }
        }
        return sum;
    }

    public static float[] Mean(TrainingSet set) => Array.ConvertAll(MeanDouble(set), m => (float)m);

    /// <summary>The population standard deviation of each dimension around <paramref name="mean"/>.</summary>
    public static double[] StandardDeviation(TrainingSet set, double[] mean)
    {
        var sum = new double[set.Dimension];
        for (int row = 0; row < set.Count; row++)
        {
            ReadOnlySpan<float> vector = set.Row(row);
            for (int j = 0; j < sum.Length; j++)
            {
                double d = vector[j] - mean[j];
                sum[j] += d * d;
            }
        }
        for (int j = 0; j < sum.Length; j++)
        {
            sum[j] = Math.Sqrt(sum[j] / Math.Max(1, set.Count));
        }
        return sum;
    }

    /// <summary>The median of each dimension: the middle value, or the mean of the two middle values for an even count.</summary>
    public static float[] Median(TrainingSet set)
    {
        var median = new float[set.Dimension];
        var column = new float[set.Count];
        ReadOnlySpan<float> all = set.Vectors.Span;
        for (int j = 0; j < set.Dimension; j++)
        {
            for (int row = 0; row < set.Count; row++)
            {
                column[row] = all[row * set.Dimension + j];
            }
            Array.Sort(column);
            int half = set.Count / 2;
            median[j] = set.Count % 2 == 1 ? column[half] : (float)((column[half - 1] + (double)column[half]) / 2);
        }
        return median;
    }
}
