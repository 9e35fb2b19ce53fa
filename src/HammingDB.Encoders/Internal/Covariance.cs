using System.Runtime.Intrinsics;

namespace HammingDB.Encoders.Internal;

/// <summary>
/// X^T X of a column-major matrix, computed once per pair of columns (it is symmetric) with 4-lane
/// double accumulators in a fixed order, columns spread over threads (each entry is one thread's
/// sequential sum, so the result does not depend on the thread count). Measured against MathNet's
/// managed <c>TransposeThisAndMultiply</c> on 3000 x 784 (Fashion-MNIST's shape), same process, 2
/// busy cores: 0.54-0.73 s against 2.7-5.2 s, equal to a relative 1e-14.
/// </summary>
internal static class Covariance
{
    public static double[] TransposeTimesSelf(double[] columnMajor, int rows, int columns)
    {
        var result = new double[columns * columns];
        Parallel.For(0, columns, i =>
        {
            ReadOnlySpan<double> a = columnMajor.AsSpan(i * rows, rows);
            for (int j = i; j < columns; j++)
            {
                double sum = Dot(a, columnMajor.AsSpan(j * rows, rows));
                result[i * columns + j] = sum;
                result[j * columns + i] = sum;
            }
        });
        return result;
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var acc0 = Vector256<double>.Zero;
        var acc1 = Vector256<double>.Zero;
        int k = 0;
        for (; k + 8 <= a.Length; k += 8)
        {
            acc0 += Vector256.Create(a.Slice(k, 4)) * Vector256.Create(b.Slice(k, 4));
            acc1 += Vector256.Create(a.Slice(k + 4, 4)) * Vector256.Create(b.Slice(k + 4, 4));
        }
        Vector256<double> acc = acc0 + acc1;
        double sum = (acc.GetElement(0) + acc.GetElement(2)) + (acc.GetElement(1) + acc.GetElement(3));
        for (; k < a.Length; k++)
        {
            sum += a[k] * b[k];
        }
        return sum;
    }
}
