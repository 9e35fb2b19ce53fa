using System.Buffers;

namespace HammingDB.Encoders.Internal;

/// <summary>
/// What LSH, ITQ and GRH encoders apply: bit i of the code is set iff
/// <c>dot(Weights[i], vector - Mean) &gt; Thresholds[i]</c>. Weights are bit-major (row i of
/// <see cref="Dimension"/> floats is bit i's hyperplane), so each bit's dot product reads one
/// contiguous row. Subtracting the mean first keeps the dot product small where vectors share a
/// large offset (pixels 0..255), which float rounding would otherwise blur.
/// </summary>
internal sealed class LinearProjection
{
    /// <summary>Above this dimension the centered copy of a vector is rented rather than on the stack.</summary>
    private const int StackDimension = 1024;

    public LinearProjection(int dimension, int codeBits, float[] mean, float[] weights, float[] thresholds)
    {
        if (mean.Length != dimension || weights.Length != (long)codeBits * dimension || thresholds.Length != codeBits)
        {
            throw new ArgumentException($"a {codeBits}-bit projection of dimension {dimension} needs {dimension} means, {(long)codeBits * dimension} weights and {codeBits} thresholds");
        }
        Dimension = dimension;
        CodeBits = codeBits;
        Mean = mean;
        Weights = weights;
        Thresholds = thresholds;
    }

    public int Dimension { get; }

    public int CodeBits { get; }

    public float[] Mean { get; }

    public float[] Weights { get; }

    public float[] Thresholds { get; }

    public void Encode(ReadOnlySpan<float> vector, Span<ulong> code)
    {
        float[]? rented = null;
        Span<float> centered = Dimension <= StackDimension
            ? stackalloc float[Dimension]
            : (rented = ArrayPool<float>.Shared.Rent(Dimension)).AsSpan(0, Dimension);
        FloatMath.Subtract(vector, Mean, centered);
        code.Clear();
        ReadOnlySpan<float> weights = Weights;
        for (int bit = 0; bit < CodeBits; bit++)
        {
            if (FloatMath.Dot(weights.Slice(bit * Dimension, Dimension), centered) > Thresholds[bit])
            {
                code[bit >> 6] |= 1UL << (bit & 63);
            }
        }
        if (rented is not null)
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }
}
