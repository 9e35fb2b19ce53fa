using MathNet.Numerics.LinearAlgebra;

namespace HammingDB.Encoders.Internal;

/// <summary>
/// ITQ's training, in double with MathNet.Numerics (managed provider): covariance X^T X / n of the
/// centered sample (<see cref="Covariance"/>, measured faster than MathNet's product), its symmetric
/// eigendecomposition (MathNet), then the alternation of B = sign(VR) and
/// R = U W^T from the SVD V^T B = U S W^T (the orthogonal Procrustes solution), from a seeded
/// random orthogonal R. Each half-step is optimal for the other's value, so the loss never rises.
/// </summary>
internal static class ItqTrainer
{
    public static ItqEncoder Train(EncoderSpec spec, TrainingSet set, IProgress<TrainingProgress>? progress, CancellationToken cancellation)
    {
        int rows = set.Count, dimension = set.Dimension, bits = spec.CodeBits, iterations = spec.Itq.Iterations;
        progress?.Report(new TrainingProgress("statistics", 0));
        double[] mean = Statistics.MeanDouble(set);
        double[] centeredValues = CenteredColumnMajor(set, mean);
        Matrix<double> centered = Matrix<double>.Build.Dense(rows, dimension, centeredValues);
        cancellation.ThrowIfCancellationRequested();

        progress?.Report(new TrainingProgress("pca", 0.05));
        Matrix<double> covariance = Matrix<double>.Build.Dense(dimension, dimension, Covariance.TransposeTimesSelf(centeredValues, rows, dimension)) / rows;
        cancellation.ThrowIfCancellationRequested();
        Matrix<double> projection = PrincipalComponents(covariance, Math.Min(dimension, bits));
        cancellation.ThrowIfCancellationRequested();
        if (bits > dimension)
        {
            // Every component is kept (dimension of them); a seeded random matrix with orthonormal
            // rows spreads them over the width, and the rotation is then learned in that space.
            Matrix<double> expansion = RandomOrthogonal(bits, spec.Seed, SeededRandom.ExpansionStream).SubMatrix(0, dimension, 0, bits);
            projection *= expansion;
        }
        Matrix<double> projected = centered * projection; // V: rows x bits
        cancellation.ThrowIfCancellationRequested();

        Matrix<double> rotation = RandomOrthogonal(bits, spec.Seed, SeededRandom.RotationStream);
        var losses = new double[iterations + 1];
        for (int iteration = 0; ; iteration++)
        {
            Matrix<double> z = projected * rotation;
            (Matrix<double> signs, double loss) = SignsAndLoss(z);
            losses[iteration] = loss;
            progress?.Report(new TrainingProgress("rotation", 0.3 + 0.7 * iteration / Math.Max(1, iterations), loss));
            if (iteration == iterations)
            {
                break;
            }
            cancellation.ThrowIfCancellationRequested();
            var svd = projected.TransposeThisAndMultiply(signs).Svd(computeVectors: true);
            rotation = svd.U * svd.VT;
        }

        Matrix<double> composed = projection * rotation; // dimension x bits
        var weights = new float[(long)bits * dimension];
        for (int bit = 0; bit < bits; bit++)
        {
            for (int j = 0; j < dimension; j++)
            {
                weights[(long)bit * dimension + j] = (float)composed[j, bit];
            }
        }
        var linear = new LinearProjection(dimension, bits, Array.ConvertAll(mean, m => (float)m), weights, new float[bits]);
        progress?.Report(new TrainingProgress("done", 1));
        return new ItqEncoder(spec, linear, rows) { LossHistory = losses, Rotation = rotation };
    }

    private static double[] CenteredColumnMajor(TrainingSet set, double[] mean)
    {
        int rows = set.Count, dimension = set.Dimension;
        var data = new double[(long)rows * dimension];
        ReadOnlySpan<float> all = set.Vectors.Span;
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < dimension; j++)
            {
                data[(long)j * rows + i] = all[i * dimension + j] - mean[j];
            }
        }
        return data;
    }

    /// <summary>
    /// The top <paramref name="components"/> eigenvectors of the covariance as columns (dimension x
    /// components), by descending eigenvalue; each column's largest-magnitude entry made positive,
    /// so the result does not depend on the solver's sign choice.
    /// </summary>
    private static Matrix<double> PrincipalComponents(Matrix<double> covariance, int components)
    {
        var evd = covariance.Evd(Symmetricity.Symmetric);
        int dimension = covariance.RowCount;
        int[] order = Enumerable.Range(0, dimension)
            .OrderByDescending(i => evd.EigenValues[i].Real)
            .ThenBy(i => i)
            .ToArray();
        var result = Matrix<double>.Build.Dense(dimension, components);
        for (int c = 0; c < components; c++)
        {
            Vector<double> column = evd.EigenVectors.Column(order[c]);
            int largest = column.AbsoluteMaximumIndex();
            if (column[largest] < 0)
            {
                column = -column;
            }
            result.SetColumn(c, column);
        }
        return result;
    }

    /// <summary>A random orthogonal matrix (Haar): the Q of a seeded Gaussian matrix's QR, columns signed by R's diagonal.</summary>
    internal static Matrix<double> RandomOrthogonal(int size, ulong seed, ulong stream)
    {
        var random = new SeededRandom(seed, stream);
        var gaussian = Matrix<double>.Build.Dense(size, size);
        for (int i = 0; i < size; i++)
        {
            for (int j = 0; j < size; j++)
            {
                gaussian[i, j] = random.NextGaussian();
            }
        }
        var qr = gaussian.QR();
        Matrix<double> q = qr.Q;
        for (int c = 0; c < size; c++)
        {
            if (qr.R[c, c] < 0)
            {
                q.SetColumn(c, -q.Column(c));
            }
        }
        return q;
    }

    /// <summary>B = sign(Z) (+1 where Z &gt; 0, else -1, as encoding sets a bit), and ||B - Z||_F^2.</summary>
    private static (Matrix<double> Signs, double Loss) SignsAndLoss(Matrix<double> z)
    {
        double[] values = z.AsColumnMajorArray() ?? z.ToColumnMajorArray();
        var signs = new double[values.Length];
        double loss = 0;
        for (int i = 0; i < values.Length; i++)
        {
            signs[i] = values[i] > 0 ? 1.0 : -1.0;
            double residual = signs[i] - values[i];
            loss += residual * residual;
        }
        return (Matrix<double>.Build.Dense(z.RowCount, z.ColumnCount, signs), loss);
    }
}
