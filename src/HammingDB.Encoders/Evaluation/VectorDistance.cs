using System.Numerics;
using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace HammingDB.Encoders.Evaluation;

/// <summary>How float vectors are compared when candidates are re-ranked.</summary>
public enum VectorMetric
{
    /// <summary>Euclidean distance (ranked by its square).</summary>
    L2 = 1,

    /// <summary>Cosine similarity (ranked by 1 - cosine).</summary>
    Cosine = 2,

    /// <summary>Inner product (ranked by its negation: the largest first).</summary>
    DotProduct = 3,
}

/// <summary>
/// Distances between float vectors, in float32 on SIMD paths: for re-ranking Hamming candidates,
/// here and in the database. <see cref="Distance"/> gives every metric as "smaller is nearer".
/// </summary>
/// <remarks>
/// Dot products and cosines are <see cref="TensorPrimitives"/>'s. The squared L2 distance is a
/// loop of its own: TensorPrimitives offers only the rooted distance, and a float32 square root
/// rounds neighbouring distances to the same value (at about 2,000, consecutive integers' roots
/// differ by less than the float spacing), turning distinct distances into ties. With integer-valued
/// vectors whose squared distances stay below 2^24 (SIFT) every partial sum is exact, so the ranking
/// equals the float64 one.
/// </remarks>
public static class VectorDistance
{
    /// <summary>Σ (a_i - b_i)².</summary>
    /// <exception cref="ArgumentException">The vectors differ in length.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SquaredL2(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        CheckLengths(a, b);
        int i = 0;
        float sum = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            Vector<float> acc = Vector<float>.Zero;
            for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector<float> d = new Vector<float>(a[i..]) - new Vector<float>(b[i..]);
                acc += d * d;
            }
            sum = Vector.Sum(acc);
        }
        for (; i < a.Length; i++)
        {
            float d = a[i] - b[i];
            sum += d * d;
        }
        return sum;
    }

    /// <summary>√(Σ (a_i - b_i)²).</summary>
    /// <exception cref="ArgumentException">The vectors differ in length.</exception>
    public static float L2(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => MathF.Sqrt(SquaredL2(a, b));

    /// <summary>Σ a_i b_i.</summary>
    /// <exception cref="ArgumentException">The vectors differ in length.</exception>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        CheckLengths(a, b);
        return TensorPrimitives.Dot(a, b);
    }

    /// <summary>a·b / (|a| |b|); 0 when either vector is zero (no direction, so no similarity).</summary>
    /// <exception cref="ArgumentException">The vectors differ in length.</exception>
    public static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        CheckLengths(a, b);
        if (a.IsEmpty)
        {
            return 0;
        }
        float normA = TensorPrimitives.SumOfSquares(a);
        float normB = TensorPrimitives.SumOfSquares(b);
        return normA == 0 || normB == 0 ? 0 : TensorPrimitives.CosineSimilarity(a, b);
    }

    /// <summary>
    /// The distance <paramref name="metric"/> ranks by, smaller nearer: squared L2, 1 - cosine, or
    /// the negated dot product.
    /// </summary>
    /// <exception cref="ArgumentException">The vectors differ in length.</exception>
    public static float Distance(VectorMetric metric, ReadOnlySpan<float> a, ReadOnlySpan<float> b) => metric switch
    {
        VectorMetric.L2 => SquaredL2(a, b),
        VectorMetric.Cosine => 1 - Cosine(a, b),
        VectorMetric.DotProduct => -Dot(a, b),
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "unknown metric"),
    };

    private static void CheckLengths(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"the vectors differ in length: {a.Length} and {b.Length}", nameof(b));
        }
    }
}
