using System.Buffers.Binary;
using HammingDB.Encoders;
using HammingDB.Encoders.Internal;
using HammingDB.Storage;
using Xunit.Abstractions;

namespace HammingDB.Tests.Encoders;

/// <summary>The serialized encoder (docs/format/encoder.md): golden bytes, and every truncation and bit flip refused.</summary>
public class EncoderFormatTests(ITestOutputHelper output)
{
    /// <summary>Dimension 2, 8 bits, centered, seed 7, trained on 3 rows; bit-major weights as listed.</summary>
    private static LshEncoder Tiny()
    {
        float[] weights = [1, 0, 0, 1, -1, 0, 0, -1, 1, 1, -1, -1, 2, 0, 0, 2];
        float[] thresholds = [0, 0, 0, 0, 0.5f, 0.5f, -0.5f, -0.5f];
        var projection = new LinearProjection(2, 8, [0.5f, -1], weights, thresholds);
        return new LshEncoder(new EncoderSpec(EncoderKind.Lsh, 8, 7) { Lsh = new LshOptions { Center = true } }, projection, 3);
    }

    private static string Crc(byte[] bytes, int to) =>
        Convert.ToHexString(BitConverter.GetBytes(Crc32C.Compute(bytes.AsSpan(0, to)))).ToLowerInvariant();

    [Fact]
    public void Golden_bytes_of_a_small_lsh_encoder()
    {
        output.WriteLine("seed 7 (stored; the encoder is built from given hyperplanes)");
        LshEncoder encoder = Tiny();
        byte[] bytes = encoder.Serialize();
        string expected = string.Concat(
            "484442454e434f44",                                   // magic "HDBENCOD"
            "01000000", "01000000", "02000000", "08000000",       // version 1, kind 1 (LSH), dimension 2, 8 bits
            "0700000000000000", "0300000000000000",               // seed 7, 3 training rows
            "a800000000000000", "04000000", "00000000",           // total length 168, 4 parameter bytes, reserved
            "01000000",                                           // LSH flags: centered
            "0000003f", "000080bf",                               // mean [0.5, -1]
            "0000803f00000000", "000000000000803f",               // weights of bits 0..1: [1, 0], [0, 1]
            "000080bf00000000", "00000000000080bf",               // bits 2..3: [-1, 0], [0, -1]
            "0000803f0000803f", "000080bf000080bf",               // bits 4..5: [1, 1], [-1, -1]
            "0000004000000000", "0000000000000040",               // bits 6..7: [2, 0], [0, 2]
            "00000000000000000000000000000000",                   // thresholds of bits 0..3: 0
            "0000003f0000003f000000bf000000bf",                   // bits 4..7: 0.5, 0.5, -0.5, -0.5
            Crc(bytes, 164));
        Assert.Equal(expected, Convert.ToHexString(bytes).ToLowerInvariant());

        // x = [1.5, 0] centers to [1, 1]: dots 1, 1, -1, -1, 2, -2, 2, 2 against the thresholds: bits 0, 1, 4, 6, 7.
        var code = new ulong[1];
        VectorEncoder.Deserialize(bytes).Encode([1.5f, 0], code);
        Assert.Equal(0b1101_0011UL, code[0]);
        encoder.Encode([1.5f, 0], code);
        Assert.Equal(0b1101_0011UL, code[0]);
    }

    /// <summary>A small encoder of each kind (dimension 3, 8 bits), trained, for the damage tests.</summary>
    public static TheoryData<EncoderKind> Kinds() => new() { EncoderKind.Lsh, EncoderKind.BinaryQuantization, EncoderKind.Itq, EncoderKind.Grh };

    private static byte[] SmallEncoder(EncoderKind kind)
    {
        float[] rows = [1, 2, 3, -1, 0, 2, 4, 1, -2, 0, 0, 1, 2, -3, 1, 1, 1, 1, -2, 2, 0, 3, 3, -1, 5, -1, 0, 0, 2, 2];
        int[] labels = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1];
        int bits = kind == EncoderKind.BinaryQuantization ? 0 : 8;
        return EncoderTraining.Train(new EncoderSpec(kind, bits, 3) { Grh = new GrhOptions { Iterations = 1, Epochs = 1 } },
            new TrainingSet(rows, 3, labels)).Serialize();
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_single_bit_flip_is_refused(EncoderKind kind)
    {
        output.WriteLine("seed 3");
        byte[] bytes = SmallEncoder(kind);
        Assert.IsType(kind switch
        {
            EncoderKind.Lsh => typeof(LshEncoder),
            EncoderKind.BinaryQuantization => typeof(BinaryQuantizationEncoder),
            EncoderKind.Itq => typeof(ItqEncoder),
            _ => typeof(GrhEncoder),
        }, VectorEncoder.Deserialize(bytes));
        for (int bit = 0; bit < bytes.Length * 8; bit++)
        {
            byte[] damaged = (byte[])bytes.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            var error = Assert.Throws<InvalidDataException>(() => VectorEncoder.Deserialize(damaged));
            Assert.StartsWith("encoder data: ", error.Message, StringComparison.Ordinal);
            int offset = bit / 8;
            string expectedWords = offset < 8 ? "magic" : offset is >= 40 and < 48 ? "says the encoder takes" : "checksum";
            Assert.True(error.Message.Contains(expectedWords, StringComparison.Ordinal), $"flip of bit {bit}: {error.Message}");
        }
        output.WriteLine($"{bytes.Length * 8} flips of a {kind} encoder of {bytes.Length} bytes: every one refused");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_truncation_and_a_trailing_byte_are_refused(EncoderKind kind)
    {
        output.WriteLine("seed 3");
        byte[] bytes = SmallEncoder(kind);
        for (int length = 0; length < bytes.Length; length++)
        {
            var error = Assert.Throws<InvalidDataException>(() => VectorEncoder.Deserialize(bytes.AsSpan(0, length)));
            Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        }
        var trailing = Assert.Throws<InvalidDataException>(() => VectorEncoder.Deserialize([.. bytes, 0]));
        Assert.Contains($"{bytes.Length + 1} bytes; the header (offset 40) says the encoder takes {bytes.Length}", trailing.Message, StringComparison.Ordinal);
    }

    /// <summary>Bytes with a valid checksum but a bad field (a writer's bug, or forged): each named.</summary>
    [Fact]
    public void Fields_behind_a_valid_checksum_are_still_checked()
    {
        output.WriteLine("seed 0 (no randomness)");
        byte[] good = Tiny().Serialize();
        void Refused(Action<byte[]> forge, string expected)
        {
            byte[] bytes = (byte[])good.Clone();
            forge(bytes);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)));
            var error = Assert.Throws<InvalidDataException>(() => VectorEncoder.Deserialize(bytes));
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        }
        Refused(b => b[8] = 2, "format version 2 (offset 8); this build reads version 1");
        Refused(b => b[12] = 9, "kind 9 (offset 12) is not an encoder kind");
        Refused(b => b[12] = 2, "168 bytes; a BinaryQuantization encoder of dimension 2 and 8 bits takes 72");
        Refused(b => b[16] = 0, "dimension 0 (offset 16)");
        Refused(b => b[20] = 12, "code width 12 (offset 20)");
        Refused(b => b[48] = 8, "8 parameter bytes (offset 48)");
        Refused(b => b[52] = 1, "reserved field (offset 52)");
        Refused(b => b[56] = 3, "LSH flags 0x3 (offset 56)");
        Refused(b => BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(68 + (4 * 5)), float.NaN), "weights[5] (offset 88) is NaN");
        Refused(b => BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(64), float.PositiveInfinity), "mean[1] (offset 64) is");
    }

    [Fact]
    public void An_encoder_of_another_kind_has_no_serialized_form()
    {
        output.WriteLine("seed 0 (no randomness)");
        Assert.Throws<NotSupportedException>(() => new Foreign().Serialize());
        Assert.Null(new Foreign().Spec);
    }

    private sealed class Foreign : VectorEncoder
    {
        public override int Dimension => 1;

        public override int CodeBits => 8;

        public override EncoderKind Kind => EncoderKind.Lsh;

        protected override void EncodeCore(ReadOnlySpan<float> vector, Span<ulong> code) => code.Clear();
    }
}
