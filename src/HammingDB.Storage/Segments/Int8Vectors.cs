using System.Buffers.Binary;

namespace HammingDB.Storage.Segments;

/// <summary>
/// Symmetric int8 scalar quantization of one vector, as segments store it with
/// <see cref="SegmentFormat.FlagInt8Vectors"/>: a row is its f32 scale (little-endian) followed by
/// dimension i8 values, 4 + dimension bytes.
/// <list type="bullet">
/// <item>scale = max |x_i| / 127 (in float32); q_i = round(x_i / scale) (to nearest, halves away from zero,
/// the division in double), which is within -127..127; a vector of zeros (or whose largest magnitude
/// is so small that the scale rounds to 0) stores scale 0 and q_i = 0.</item>
/// <item>Dequantized: x'_i = q_i * scale (a float32 product). So |x_i - x'_i| &lt;= scale / 2 (plus the
/// product's rounding, half an ulp of x'_i); the element of largest magnitude comes back within one
/// rounding of itself.</item>
/// </list>
/// </summary>
internal static class Int8Vectors
{
    /// <summary>The bytes of one quantized row of <paramref name="dimension"/> values.</summary>
    public static int RowBytes(int dimension) => sizeof(float) + dimension;

    /// <summary>Quantizes <paramref name="vector"/> (finite values) into <paramref name="row"/> (<see cref="RowBytes"/> bytes).</summary>
    public static void Quantize(ReadOnlySpan<float> vector, Span<byte> row)
    {
        if (row.Length != RowBytes(vector.Length))
        {
            throw new ArgumentException($"A row of dimension {vector.Length} takes {RowBytes(vector.Length)} bytes; got {row.Length}.", nameof(row));
        }
        float max = 0;
        foreach (float x in vector)
        {
            max = Math.Max(max, Math.Abs(x));
        }
        float scale = max / 127f;
        BinaryPrimitives.WriteSingleLittleEndian(row, scale);
        Span<byte> values = row[sizeof(float)..];
        if (scale == 0 || !float.IsFinite(scale))
        {
            // All zeros (or below what a scale can express); a non-finite value never reaches here (rows are checked when written).
            BinaryPrimitives.WriteSingleLittleEndian(row, 0f);
            values.Clear();
            return;
        }
        for (int i = 0; i < vector.Length; i++)
        {
            double q = Math.Round(vector[i] / (double)scale, MidpointRounding.AwayFromZero);
            values[i] = (byte)(sbyte)Math.Clamp(q, -127, 127);
        }
    }

    /// <summary>Quantizes <paramref name="vectors"/> (rows x <paramref name="dimension"/> floats) into rows of <see cref="RowBytes"/> bytes.</summary>
    public static byte[] QuantizeAll(ReadOnlySpan<float> vectors, int dimension)
    {
        if (dimension <= 0)
        {
            return [];
        }
        int rows = vectors.Length / dimension;
        int stride = RowBytes(dimension);
        var bytes = new byte[(long)rows * stride];
        for (int r = 0; r < rows; r++)
        {
            Quantize(vectors.Slice(r * dimension, dimension), bytes.AsSpan(r * stride, stride));
        }
        return bytes;
    }

    /// <summary>The scale of a quantized row.</summary>
    public static float Scale(ReadOnlySpan<byte> row) => BinaryPrimitives.ReadSingleLittleEndian(row);

    /// <summary>Dequantizes <paramref name="row"/> into <paramref name="vector"/>: x'_i = q_i * scale.</summary>
    public static void Dequantize(ReadOnlySpan<byte> row, Span<float> vector)
    {
        if (row.Length != RowBytes(vector.Length))
        {
            throw new ArgumentException($"A row of dimension {vector.Length} takes {RowBytes(vector.Length)} bytes; got {row.Length}.", nameof(row));
        }
        float scale = Scale(row);
        ReadOnlySpan<byte> values = row[sizeof(float)..];
        for (int i = 0; i < vector.Length; i++)
        {
            vector[i] = (sbyte)values[i] * scale;
        }
    }
}
