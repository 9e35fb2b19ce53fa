using System.Buffers.Binary;
using System.Text;
using HammingDB.Kernels;
using HammingDB.Storage;

namespace HammingDB.Encoders.Internal;

/// <summary>
/// The serialized encoder (format version 1), stored inside its collection. Rationale in
/// docs/format/encoder.md; pinned by EncoderFormatTests.Golden_bytes_of_a_small_lsh_encoder.
/// All integers and floats little-endian.
/// <code>
/// offset  size  field
/// 0       8     magic "HDBENCOD"
/// 8       4     u32 format version (1)
/// 12      4     u32 kind (1 LSH, 2 binary quantization, 3 ITQ, 4 GRH)
/// 16      4     u32 dimension (1..65536)
/// 20      4     u32 code bits (multiple of 8, 8..8192; binary quantization: the dimension rounded up to 8)
/// 24      8     u64 seed
/// 32      8     u64 training rows
/// 40      8     u64 total length L in bytes (the whole encoder, checksum included)
/// 48      4     u32 parameter bytes P (4 LSH, 4 binary quantization, 8 ITQ, 32 GRH)
/// 52      4     u32 reserved, 0
/// 56      P     parameters of the kind:
///                 LSH  u32 flags (bit 0: centered; the other bits 0)
///                 BQ   u32 threshold (0 sign, 1 mean, 2 median)
///                 ITQ  u32 iterations, u32 principal components (min(dimension, bits))
///                 GRH  u32 iterations, u32 epochs, f64 alpha, f64 learning rate, f64 regularisation
/// 56+P    4F    F float32, all finite:
///                 LSH, ITQ, GRH  mean[dimension], weights[bits x dimension] (bit-major), thresholds[bits]
///                                (bit i is set iff dot(weights[i], x - mean) &gt; thresholds[i])
///                 BQ             thresholds[dimension] (bit i is set iff x[i] &gt; thresholds[i])
/// L-4     4     u32 CRC-32C of bytes 0..L-4
/// </code>
/// A reader checks, in this order: the length holds a header, the magic, the stated length against
/// the bytes given (truncation or trailing bytes), the checksum, the version, then every field's
/// range and the arrays' sizes against the stated length; each failure is an
/// <see cref="InvalidDataException"/> that says which.
/// </summary>
internal static class EncoderFormat
{
    public const uint Version = 1;
    public const int HeaderBytes = 56;
    public const int ChecksumBytes = 4;
    private const string Prefix = "encoder data: ";
    private static ReadOnlySpan<byte> Magic => "HDBENCOD"u8;

    private static int ParameterBytes(EncoderKind kind) => kind switch
    {
        EncoderKind.Lsh or EncoderKind.BinaryQuantization => 4,
        EncoderKind.Itq => 8,
        _ => 32,
    };

    public static byte[] Write(VectorEncoder encoder)
    {
        (EncoderSpec spec, long rows, LinearProjection? linear, float[]? bqThresholds) = encoder switch
        {
            LshEncoder e => (e.Spec, e.TrainingRows, e.Projection, (float[]?)null),
            BinaryQuantizationEncoder e => (e.Spec, e.TrainingRows, null, e.Thresholds.ToArray()),
            ItqEncoder e => (e.Spec, e.TrainingRows, e.Projection, null),
            GrhEncoder e => (e.Spec, e.TrainingRows, e.Projection, null),
            _ => throw new NotSupportedException($"{encoder.GetType().Name} has no serialized form; only the built-in encoders do"),
        };
        int parameterBytes = ParameterBytes(encoder.Kind);
        long floats = linear is null ? bqThresholds!.Length : linear.Mean.Length + (long)linear.Weights.Length + linear.Thresholds.Length;
        long length = HeaderBytes + parameterBytes + 4 * floats + ChecksumBytes;
        if (length > Array.MaxLength)
        {
            throw new NotSupportedException($"the encoder would take {length} bytes; an array holds at most {Array.MaxLength}");
        }
        var bytes = new byte[length];
        Span<byte> span = bytes;
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], (uint)encoder.Kind);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], (uint)encoder.Dimension);
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], (uint)encoder.CodeBits);
        BinaryPrimitives.WriteUInt64LittleEndian(span[24..], spec.Seed);
        BinaryPrimitives.WriteUInt64LittleEndian(span[32..], (ulong)rows);
        BinaryPrimitives.WriteUInt64LittleEndian(span[40..], (ulong)length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[48..], (uint)parameterBytes);
        Span<byte> parameters = span.Slice(HeaderBytes, parameterBytes);
        switch (encoder.Kind)
        {
            case EncoderKind.Lsh:
                BinaryPrimitives.WriteUInt32LittleEndian(parameters, spec.Lsh.Center ? 1u : 0u);
                break;
            case EncoderKind.BinaryQuantization:
                BinaryPrimitives.WriteUInt32LittleEndian(parameters, (uint)spec.BinaryQuantization.Threshold);
                break;
            case EncoderKind.Itq:
                BinaryPrimitives.WriteUInt32LittleEndian(parameters, (uint)spec.Itq.Iterations);
                BinaryPrimitives.WriteUInt32LittleEndian(parameters[4..], (uint)Math.Min(encoder.Dimension, encoder.CodeBits));
                break;
            default:
                BinaryPrimitives.WriteUInt32LittleEndian(parameters, (uint)spec.Grh.Iterations);
                BinaryPrimitives.WriteUInt32LittleEndian(parameters[4..], (uint)spec.Grh.Epochs);
                BinaryPrimitives.WriteDoubleLittleEndian(parameters[8..], spec.Grh.Alpha);
                BinaryPrimitives.WriteDoubleLittleEndian(parameters[16..], spec.Grh.LearningRate);
                BinaryPrimitives.WriteDoubleLittleEndian(parameters[24..], spec.Grh.Regularization);
                break;
        }
        int at = HeaderBytes + parameterBytes;
        if (linear is null)
        {
            at = WriteFloats(span, at, bqThresholds);
        }
        else
        {
            at = WriteFloats(span, at, linear.Mean);
            at = WriteFloats(span, at, linear.Weights);
            at = WriteFloats(span, at, linear.Thresholds);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], Crc32C.Compute(span[..at]));
        return bytes;
    }

    private static int WriteFloats(Span<byte> span, int at, ReadOnlySpan<float> values)
    {
        foreach (float value in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(span[at..], value);
            at += 4;
        }
        return at;
    }

    public static VectorEncoder Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < HeaderBytes + ChecksumBytes)
        {
            throw Damaged($"truncated: {bytes.Length} bytes; an encoder takes at least {HeaderBytes + ChecksumBytes}");
        }
        if (!bytes[..8].SequenceEqual(Magic))
        {
            throw Damaged($"no encoder magic \"{Encoding.ASCII.GetString(Magic)}\" at offset 0");
        }
        ulong stated = BinaryPrimitives.ReadUInt64LittleEndian(bytes[40..]);
        if (stated != (ulong)bytes.Length)
        {
            throw Damaged(stated > (ulong)bytes.Length
                ? $"truncated: {bytes.Length} bytes; the header (offset 40) says the encoder takes {stated}"
                : $"{bytes.Length} bytes; the header (offset 40) says the encoder takes {stated}");
        }
        int end = bytes.Length - ChecksumBytes;
        uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(bytes[end..]);
        uint computedCrc = Crc32C.Compute(bytes[..end]);
        if (storedCrc != computedCrc)
        {
            throw Damaged($"checksum mismatch: stored 0x{storedCrc:x8} at offset {end}, computed 0x{computedCrc:x8} over bytes 0..{end}");
        }
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        if (version != Version)
        {
            throw Damaged($"format version {version} (offset 8); this build reads version {Version}");
        }

        // The checksum matched: what follows catches a writer's bug or forged bytes, never trusted blindly.
        uint kindValue = BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]);
        if (kindValue is < 1 or > 4)
        {
            throw Damaged($"kind {kindValue} (offset 12) is not an encoder kind");
        }
        var kind = (EncoderKind)kindValue;
        uint dimensionValue = BinaryPrimitives.ReadUInt32LittleEndian(bytes[16..]);
        if (dimensionValue is < 1 or > TrainingSet.MaxDimension)
        {
            throw Damaged($"dimension {dimensionValue} (offset 16) is out of range 1..{TrainingSet.MaxDimension}");
        }
        int dimension = (int)dimensionValue;
        uint bitsValue = BinaryPrimitives.ReadUInt32LittleEndian(bytes[20..]);
        if (bitsValue is < CodeLayout.MinCodeBits or > CodeLayout.MaxCodeBits || bitsValue % 8 != 0)
        {
            throw Damaged($"code width {bitsValue} (offset 20) is not a multiple of 8 from {CodeLayout.MinCodeBits} to {CodeLayout.MaxCodeBits}");
        }
        int bits = (int)bitsValue;
        if (kind == EncoderKind.BinaryQuantization && bits != BinaryQuantizationEncoder.WidthFor(dimension))
        {
            throw Damaged($"code width {bits} (offset 20): binary quantization of dimension {dimension} makes {BinaryQuantizationEncoder.WidthFor(dimension)}-bit codes");
        }
        ulong seed = BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]);
        ulong rows = BinaryPrimitives.ReadUInt64LittleEndian(bytes[32..]);
        if (rows > int.MaxValue)
        {
            throw Damaged($"training rows {rows} (offset 32) exceed {int.MaxValue}");
        }
        uint parameterBytes = BinaryPrimitives.ReadUInt32LittleEndian(bytes[48..]);
        if (parameterBytes != ParameterBytes(kind))
        {
            throw Damaged($"{parameterBytes} parameter bytes (offset 48); a {kind} encoder has {ParameterBytes(kind)}");
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes[52..]) != 0)
        {
            throw Damaged("the reserved field (offset 52) is not zero");
        }
        long floats = kind == EncoderKind.BinaryQuantization ? dimension : dimension + (long)bits * dimension + bits;
        long expected = HeaderBytes + parameterBytes + 4 * floats + ChecksumBytes;
        if (expected != bytes.Length)
        {
            throw Damaged($"{bytes.Length} bytes; a {kind} encoder of dimension {dimension} and {bits} bits takes {expected}");
        }

        ReadOnlySpan<byte> parameters = bytes.Slice(HeaderBytes, (int)parameterBytes);
        var spec = new EncoderSpec(kind, bits, seed);
        switch (kind)
        {
            case EncoderKind.Lsh:
                uint flags = BinaryPrimitives.ReadUInt32LittleEndian(parameters);
                if (flags > 1)
                {
                    throw Damaged($"LSH flags 0x{flags:x} (offset {HeaderBytes}) has unknown bits");
                }
                spec = spec with { Lsh = new LshOptions { Center = flags == 1 } };
                break;
            case EncoderKind.BinaryQuantization:
                uint threshold = BinaryPrimitives.ReadUInt32LittleEndian(parameters);
                if (threshold > 2)
                {
                    throw Damaged($"threshold kind {threshold} (offset {HeaderBytes}) is not 0 (sign), 1 (mean) or 2 (median)");
                }
                spec = spec with { BinaryQuantization = new BinaryQuantizationOptions { Threshold = (QuantizationThreshold)threshold } };
                break;
            case EncoderKind.Itq:
                uint iterations = BinaryPrimitives.ReadUInt32LittleEndian(parameters);
                uint components = BinaryPrimitives.ReadUInt32LittleEndian(parameters[4..]);
                if (iterations > 100_000 || components != Math.Min(dimension, bits))
                {
                    throw Damaged($"ITQ parameters (offset {HeaderBytes}): {iterations} iterations, {components} principal components; expected at most 100000 and min(dimension, bits) = {Math.Min(dimension, bits)}");
                }
                spec = spec with { Itq = new ItqOptions { Iterations = (int)iterations } };
                break;
            default:
                var grh = new GrhOptions
                {
                    Iterations = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(parameters)),
                    Epochs = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(parameters[4..])),
                    Alpha = BinaryPrimitives.ReadDoubleLittleEndian(parameters[8..]),
                    LearningRate = BinaryPrimitives.ReadDoubleLittleEndian(parameters[16..]),
                    Regularization = BinaryPrimitives.ReadDoubleLittleEndian(parameters[24..]),
                };
                if (grh.Iterations is < 1 or > 10_000 || grh.Epochs is < 1 or > 10_000 || !(grh.Alpha is >= 0 and <= 1)
                    || !(grh.LearningRate > 0 && double.IsFinite(grh.LearningRate)) || !(grh.Regularization >= 0 && double.IsFinite(grh.Regularization)))
                {
                    throw Damaged($"GRH parameters (offset {HeaderBytes}) out of range: {grh}");
                }
                spec = spec with { Grh = grh };
                break;
        }

        int at = HeaderBytes + (int)parameterBytes;
        if (kind == EncoderKind.BinaryQuantization)
        {
            return new BinaryQuantizationEncoder(spec, ReadFloats(bytes, ref at, dimension, "thresholds"), (long)rows);
        }
        float[] mean = ReadFloats(bytes, ref at, dimension, "mean");
        float[] weights = ReadFloats(bytes, ref at, bits * dimension, "weights");
        float[] thresholds = ReadFloats(bytes, ref at, bits, "thresholds");
        var projection = new LinearProjection(dimension, bits, mean, weights, thresholds);
        return kind switch
        {
            EncoderKind.Lsh => new LshEncoder(spec, projection, (long)rows),
            EncoderKind.Itq => new ItqEncoder(spec, projection, (long)rows),
            _ => new GrhEncoder(spec, projection, (long)rows),
        };
    }

    private static float[] ReadFloats(ReadOnlySpan<byte> bytes, ref int at, int count, string name)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[at..]);
            if (!float.IsFinite(values[i]))
            {
                throw Damaged($"{name}[{i}] (offset {at}) is {values[i]}; every value must be finite");
            }
            at += 4;
        }
        return values;
    }

    private static InvalidDataException Damaged(string reason) => new(Prefix + reason);
}
