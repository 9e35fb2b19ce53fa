using System.Diagnostics.CodeAnalysis;
using System.Runtime.Intrinsics;

namespace HammingDB.Encoders.Internal;

/// <summary>
/// The float loops of encoding and of GRH's classifiers. Sums are taken in a fixed order (four
/// 8-lane accumulators, then a fixed reduction, then the tail), never in whatever order the vector
/// width of the machine gives, so a vector's code is the same bits on every machine: on one without
/// 256-bit vectors <see cref="Vector256{T}"/> runs the same lane arithmetic in software.
/// </summary>
internal static class FloatMath
{
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            ThrowLengthsDiffer();
        }
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        var acc2 = Vector256<float>.Zero;
        var acc3 = Vector256<float>.Zero;
        int i = 0;
        for (; i + 32 <= a.Length; i += 32)
        {
            acc0 += Vector256.Create(a.Slice(i, 8)) * Vector256.Create(b.Slice(i, 8));
            acc1 += Vector256.Create(a.Slice(i + 8, 8)) * Vector256.Create(b.Slice(i + 8, 8));
            acc2 += Vector256.Create(a.Slice(i + 16, 8)) * Vector256.Create(b.Slice(i + 16, 8));
            acc3 += Vector256.Create(a.Slice(i + 24, 8)) * Vector256.Create(b.Slice(i + 24, 8));
        }
        for (; i + 8 <= a.Length; i += 8)
        {
            acc0 += Vector256.Create(a.Slice(i, 8)) * Vector256.Create(b.Slice(i, 8));
        }
        Vector256<float> acc = (acc0 + acc1) + (acc2 + acc3);
        Vector128<float> half = acc.GetLower() + acc.GetUpper();
        float sum = (half.GetElement(0) + half.GetElement(2)) + (half.GetElement(1) + half.GetElement(3));
        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }

    /// <summary><paramref name="y"/> += <paramref name="scale"/> * <paramref name="x"/>.</summary>
    public static void AddScaled(Span<float> y, float scale, ReadOnlySpan<float> x)
    {
        if (x.Length != y.Length)
        {
            ThrowLengthsDiffer();
        }
        var factor = Vector256.Create(scale);
        int i = 0;
        for (; i + 8 <= y.Length; i += 8)
        {
            (Vector256.Create((ReadOnlySpan<float>)y.Slice(i, 8)) + (factor * Vector256.Create(x.Slice(i, 8)))).CopyTo(y.Slice(i, 8));
        }
        for (; i < y.Length; i++)
        {
            y[i] += scale * x[i];
        }
    }

    /// <summary><paramref name="destination"/> = <paramref name="x"/> - <paramref name="mean"/>.</summary>
    public static void Subtract(ReadOnlySpan<float> x, ReadOnlySpan<float> mean, Span<float> destination)
    {
        if (x.Length != mean.Length || x.Length != destination.Length)
        {
            ThrowLengthsDiffer();
        }
        int i = 0;
        for (; i + 8 <= x.Length; i += 8)
        {
            (Vector256.Create(x.Slice(i, 8)) - Vector256.Create(mean.Slice(i, 8))).CopyTo(destination.Slice(i, 8));
        }
        for (; i < x.Length; i++)
        {
            destination[i] = x[i] - mean[i];
        }
    }

    [DoesNotReturn]
    private static void ThrowLengthsDiffer() => throw new ArgumentException("the spans differ in length");
}
