namespace HammingDB.Encoders.Data;

/// <summary>Float vectors, row-major in one array.</summary>
/// <param name="values">The values, not copied.</param>
/// <param name="dimension">The length of each row.</param>
/// <exception cref="ArgumentException">The array is not a whole number of rows.</exception>
public sealed class FloatVectors(float[] values, int dimension) : RowMajor<float>(values, dimension)
{
    /// <summary>Rows <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> - 1, copied.</summary>
    public FloatVectors Slice(int start, int count)
    {
        if ((uint)start > (uint)Count || (uint)count > (uint)(Count - start))
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"[{start}, {start}+{count}) is outside the {Count} rows");
        }
        return new FloatVectors(Values.AsSpan(start * Dimension, count * Dimension).ToArray(), Dimension);
    }
}
