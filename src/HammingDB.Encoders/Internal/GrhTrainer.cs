namespace HammingDB.Encoders.Internal;

/// <summary>
/// GRH's training. Codes are kept bit-major as +1/-1 (<c>codes[bit * rows + row]</c>) so that each
/// bit's smoothing, classifier and re-hash read one contiguous run, and bits run in parallel: each
/// bit's work is sequential and shares only read-only data (features, the epoch's shuffle), so the
/// result does not depend on the thread count.
/// </summary>
internal static class GrhTrainer
{
    public static GrhEncoder Train(EncoderSpec spec, TrainingSet set, IProgress<TrainingProgress>? progress, CancellationToken cancellation)
    {
        GrhOptions options = spec.Grh;
        int rows = set.Count, dimension = set.Dimension, bits = spec.CodeBits;
        progress?.Report(new TrainingProgress("statistics", 0));
        double[] mean = Statistics.MeanDouble(set);
        double[] scale = Statistics.StandardDeviation(set, mean);
        double rootDimension = Math.Sqrt(dimension);
        for (int j = 0; j < dimension; j++)
        {
            // A constant dimension carries nothing; dividing its zeros by 1 keeps them zero.
            scale[j] = scale[j] > 0 ? scale[j] * rootDimension : 1;
        }
        float[] features = Features(set, mean, scale);
        (int[] classOf, int[] classSizes) = Classes(set.Labels!.Value.Span);
        cancellation.ThrowIfCancellationRequested();

        // Starting codes: LSH through the origin of the feature space.
        progress?.Report(new TrainingProgress("hyperplanes", 0.02));
        float[] hyperplanes = LshEncoder.DrawHyperplanes(spec.Seed, bits, dimension);
        var zeroBias = new double[bits];
        var codes = new sbyte[(long)bits * rows];
        Parallel.For(0, bits, bit => Rehash(bit, hyperplanes, zeroBias, features, rows, dimension, codes));

        var weights = new float[(long)bits * dimension];
        var bias = new double[bits];
        var targets = new sbyte[codes.Length];
        var changed = new double[options.Iterations];
        int totalEpochs = options.Iterations * options.Epochs;
        for (int round = 0; round < options.Iterations; round++)
        {
            cancellation.ThrowIfCancellationRequested();
            progress?.Report(new TrainingProgress("smoothing", 0.05 + 0.95 * round * options.Epochs / totalEpochs));
            Parallel.For(0, bits, bit => Smooth(bit, codes, targets, classOf, classSizes, rows, options.Alpha));

            var steps = new long[bits];
            for (int epoch = 0; epoch < options.Epochs; epoch++)
            {
                cancellation.ThrowIfCancellationRequested();
                progress?.Report(new TrainingProgress("classifiers", 0.05 + 0.95 * (round * options.Epochs + epoch) / totalEpochs));
                int[] order = new SeededRandom(spec.Seed, SeededRandom.ShuffleStream, (ulong)(round * options.Epochs + epoch)).Permutation(rows);
                Parallel.For(0, bits, bit => SgdEpoch(bit, order, features, targets, rows, dimension, weights, bias, ref steps[bit], options));
            }

            var before = (sbyte[])codes.Clone();
            Parallel.For(0, bits, bit => Rehash(bit, weights, bias, features, rows, dimension, codes));
            long differing = 0;
            for (long i = 0; i < codes.Length; i++)
            {
                differing += codes[i] != before[i] ? 1 : 0;
            }
            changed[round] = codes.Length == 0 ? 0 : (double)differing / codes.Length;
        }

        // Fold the feature map into the hyperplanes: w.((x - m) / s) + b > 0  <=>  (w / s).(x - m) > -b.
        var folded = new float[weights.Length];
        var thresholds = new float[bits];
        for (int bit = 0; bit < bits; bit++)
        {
            for (int j = 0; j < dimension; j++)
            {
                folded[(long)bit * dimension + j] = (float)(weights[(long)bit * dimension + j] / scale[j]);
            }
            thresholds[bit] = (float)-bias[bit];
        }
        var projection = new LinearProjection(dimension, bits, Array.ConvertAll(mean, m => (float)m), folded, thresholds);
        progress?.Report(new TrainingProgress("done", 1));
        return new GrhEncoder(spec, projection, rows) { ChangedBits = changed };
    }

    private static float[] Features(TrainingSet set, double[] mean, double[] scale)
    {
        var features = new float[(long)set.Count * set.Dimension];
        ReadOnlySpan<float> all = set.Vectors.Span;
        for (int i = 0; i < all.Length; i++)
        {
            int j = i % set.Dimension;
            features[i] = (float)((all[i] - mean[j]) / scale[j]);
        }
        return features;
    }

    /// <summary>Each row's class index (labels in ascending order) and each class's size.</summary>
    private static (int[] ClassOf, int[] ClassSizes) Classes(ReadOnlySpan<int> labels)
    {
        int[] distinct = labels.ToArray();
        Array.Sort(distinct);
        int count = 0;
        for (int i = 0; i < distinct.Length; i++)
        {
            if (i == 0 || distinct[i] != distinct[i - 1])
            {
                distinct[count++] = distinct[i];
            }
        }
        var classOf = new int[labels.Length];
        var sizes = new int[count];
        for (int i = 0; i < labels.Length; i++)
        {
            classOf[i] = Array.BinarySearch(distinct, 0, count, labels[i]);
            sizes[classOf[i]]++;
        }
        return (classOf, sizes);
    }

    /// <summary>
    /// targets = sign(alpha * S_norm * B + (1 - alpha) * B) for one bit. With S_ij = 1 for equal labels
    /// (i itself included) and rows normalised, S_norm * B is the mean of the bit over the row's class:
    /// computed from class sums, never as an N x N matrix. A tie (exactly 0) keeps the current bit.
    /// </summary>
    private static void Smooth(int bit, sbyte[] codes, sbyte[] targets, int[] classOf, int[] classSizes, int rows, double alpha)
    {
        var sums = new long[classSizes.Length];
        ReadOnlySpan<sbyte> current = codes.AsSpan(bit * rows, rows);
        for (int i = 0; i < rows; i++)
        {
            sums[classOf[i]] += current[i];
        }
        Span<sbyte> smoothed = targets.AsSpan(bit * rows, rows);
        for (int i = 0; i < rows; i++)
        {
            int c = classOf[i];
            double blended = alpha * sums[c] / classSizes[c] + (1 - alpha) * current[i];
            smoothed[i] = blended > 0 ? (sbyte)1 : blended < 0 ? (sbyte)-1 : current[i];
        }
    }

    /// <summary>
    /// One pass of hinge-loss SGD (Pegasos-style, lambda/2 ||w||^2 + hinge, unregularised bias) for one
    /// bit's hyperplane, warm-started from its current value. Step t: eta0 / (1 + eta0 * lambda * t).
    /// The weights are kept as scale * v so that the shrink of every step costs O(1).
    /// </summary>
    private static void SgdEpoch(int bit, int[] order, float[] features, sbyte[] targets, int rows, int dimension,
        float[] weights, double[] bias, ref long step, GrhOptions options)
    {
        Span<float> v = weights.AsSpan(bit * dimension, dimension);
        ReadOnlySpan<sbyte> labels = targets.AsSpan(bit * rows, rows);
        double lambda = options.Regularization, eta0 = options.LearningRate;
        double scale = 1, b = bias[bit];
        foreach (int row in order)
        {
            double eta = eta0 / (1 + eta0 * lambda * step);
            step++;
            ReadOnlySpan<float> x = features.AsSpan(row * dimension, dimension);
            int y = labels[row];
            double score = scale * FloatMath.Dot(v, x) + b;
            scale *= 1 - eta * lambda;
            if (y * score < 1)
            {
                FloatMath.AddScaled(v, (float)(eta * y / scale), x);
                b += eta * y;
            }
            if (scale < 1e-6)
            {
                Rescale(v, scale);
                scale = 1;
            }
        }
        Rescale(v, scale);
        bias[bit] = b;
    }

    private static void Rescale(Span<float> v, double scale)
    {
        for (int j = 0; j < v.Length; j++)
        {
            v[j] = (float)(v[j] * scale);
        }
    }

    private static void Rehash(int bit, float[] weights, double[] bias, float[] features, int rows, int dimension, sbyte[] codes)
    {
        ReadOnlySpan<float> w = weights.AsSpan(bit * dimension, dimension);
        Span<sbyte> code = codes.AsSpan(bit * rows, rows);
        for (int i = 0; i < rows; i++)
        {
            code[i] = FloatMath.Dot(w, features.AsSpan(i * dimension, dimension)) + bias[bit] > 0 ? (sbyte)1 : (sbyte)-1;
        }
    }
}
