using HammingDB.Kernels;
using HammingDB.Storage;
using HammingDB.Storage.Segments;
using Xunit.Abstractions;

namespace HammingDB.Tests.Storage;

/// <summary>Segments whose vectors are stored as int8 with a scale per row (flag 4).</summary>
public class SegmentInt8Tests(ITestOutputHelper output)
{
    private const string Dir = "/db";
    private const string Name = "seg-0000000001.hdbs";
    private static readonly string SegmentPath = Path.Combine(Dir, Name);

    [Fact]
    public void Golden_bytes_of_a_small_int8_segment()
    {
        var layout = new CodeLayout(64);
        var codes = new PackedCodes(layout, 2);
        codes.Add([0x0123456789ABCDEFUL]);
        codes.Add([0xFFUL]);
        var contents = new SegmentContents
        {
            Codes = codes, KeyKind = KeyKind.UInt64, Keys = [SegmentTests.U64Key(0x0123456789ABCDEF), SegmentTests.U64Key(0xFEDCBA9876543210)],
            Vectors = [127f, -64f, 3.4f, 0f, 0f, 0f], VectorDimension = 3, VectorKind = VectorKind.Int8,
        };
        var fs = new MemoryFileSystem();
        SegmentWriter.Write(fs, Dir, Name, contents);
        byte[] bytes = fs.ReadAllBytes(SegmentPath);
        string hex = Convert.ToHexString(bytes).ToLowerInvariant();
        output.WriteLine(hex);
        string Crc(int from, int to) => Convert.ToHexString(BitConverter.GetBytes(Crc32C.Compute(bytes.AsSpan(from, to - from)))).ToLowerInvariant();
        string expected = string.Concat(
            // header: magic, version 2, 64 bits, 2 rows, key kind 1, flags 6 (vectors, int8), dimension 3, reserved, CRC
            "4844425345474d54", "02000000", "40000000", "0200000000000000", "01000000", "06000000", "03000000",
            new string('0', 48), Crc(0, 60),
            // codes, padded to 64 bytes
            "efcdab8967452301", "ff00000000000000", new string('0', 96),
            // vectors at 128: row 0 scale 1.0 (max 127 / 127), values 127, -64, 3 (3.4 rounded); row 1 all zeros: scale 0, values 0; padded to 192
            "0000803f", "7fc003", "00000000", "000000", new string('0', 100),
            // key block at 192: CRC, 16 raw, 16 stored, raw; two keys big-endian
            Crc(196, 224), "10000000", "10000000", "00000000", "0123456789abcdef", "fedcba9876543210",
            // metadata at 224: code chunk CRC; key block offsets 192, 224; vector chunk CRC (over the 14 bytes); 0 MIH tables
            Crc(64, 80), "c000000000000000", "e000000000000000", Crc(128, 142), "00000000",
            // footer: codes 64, vectors 128, metadata 224, 28 bytes, metadata CRC, rows 2, 64 bits, kind 1, flags 6, dim 3, version 2, CRC
            "4000000000000000", "8000000000000000", "e000000000000000", "1c000000", Crc(224, 252),
            "0200000000000000", "40000000", "01000000", "06000000", "03000000", "02000000", Crc(252, 312));
        Assert.Equal(expected, hex);

        using SegmentReader reader = SegmentReader.Open(fs, SegmentPath);
        Assert.Equal(VectorKind.Int8, reader.VectorKind);
        Assert.Equal([127f, -64f, 3f], reader.GetVector(0));
        Assert.Equal([0f, 0f, 0f], reader.GetVector(1));
    }

    [Theory]
    [InlineData(1, 0, 1)]
    [InlineData(2, 5_000, 7)]
    [InlineData(3, 300, 128)]
    [InlineData(4, 9_000, 96)]
    public void Dequantized_vectors_are_within_half_a_scale_of_the_originals(int seed, int rows, int dimension)
    {
        output.WriteLine($"seed {seed}");
        SegmentContents floats = SegmentTests.Contents(seed, 64, rows, KeyKind.UInt64, payloads: true, dimension);
        var random = new Random(seed);
        for (int i = 0; i < floats.Vectors.Length; i++)
        {
            // Magnitudes over many orders, some rows all zero.
            floats.Vectors[i] *= (float)Math.Pow(10, random.Next(-3, 4));
        }
        for (int row = 0; row < rows; row += 17)
        {
            floats.Vectors.AsSpan(row * dimension, dimension).Clear();
        }
        var contents = new SegmentContents
        {
            Codes = floats.Codes, KeyKind = floats.KeyKind, Keys = floats.Keys, Payloads = floats.Payloads,
            Vectors = floats.Vectors, VectorDimension = dimension, VectorKind = VectorKind.Int8,
        };
        var fs = new MemoryFileSystem();
        long size = SegmentWriter.Write(fs, Dir, Name, contents);
        using SegmentReader reader = SegmentReader.Open(fs, SegmentPath);
        Assert.Equal(VectorKind.Int8, reader.VectorKind);
        var read = new float[dimension];
        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<float> original = contents.Vectors.AsSpan(row * dimension, dimension);
            reader.ReadVector(row, read);
            float scale = Int8Vectors.Scale(reader.Int8Row(row));
            float max = 0;
            foreach (float x in original)
            {
                max = Math.Max(max, Math.Abs(x));
            }
            Assert.Equal(max / 127f, scale);
            for (int i = 0; i < dimension; i++)
            {
                // scale / 2 from rounding to the nearest step, plus the float product's own rounding.
                double bound = scale / 2.0 + Math.Abs(read[i]) * 1e-7;
                Assert.True(Math.Abs(original[i] - read[i]) <= bound, $"row {row} value {i}: {original[i]} read as {read[i]}, scale {scale}");
            }
        }
        // dimension + 4 bytes a row instead of 4 x dimension (the rest of the file is the same but for the vectors' padding).
        long floatSize = SegmentWriter.Write(fs, Dir, "seg-0000000002.hdbs", floats);
        Assert.InRange(floatSize - size, (long)rows * (3 * dimension - 4) - 64, (long)rows * (3 * dimension - 4) + 64);
        SegmentTests.AssertReadsBack(new SegmentContents
        {
            Codes = contents.Codes, KeyKind = contents.KeyKind, Keys = contents.Keys, Payloads = contents.Payloads,
            Vectors = Enumerable.Range(0, rows).SelectMany(reader.GetVector).ToArray(), VectorDimension = dimension, VectorKind = VectorKind.Int8,
        }, reader);
    }

    [Fact]
    public void Pre_quantized_rows_are_written_as_given()
    {
        SegmentContents floats = SegmentTests.Contents(8, 128, 1000, KeyKind.UInt64, payloads: false, dimension: 16);
        byte[] rows = Int8Vectors.QuantizeAll(floats.Vectors, 16);
        var fs = new MemoryFileSystem();
        SegmentWriter.Write(fs, Dir, Name, new SegmentContents
        {
            Codes = floats.Codes, KeyKind = floats.KeyKind, Keys = floats.Keys, VectorDimension = 16, VectorKind = VectorKind.Int8, Int8Rows = rows,
        });
        byte[] fromRows = fs.ReadAllBytes(SegmentPath);
        SegmentWriter.Write(fs, Dir, Name, new SegmentContents
        {
            Codes = floats.Codes, KeyKind = floats.KeyKind, Keys = floats.Keys, Vectors = floats.Vectors, VectorDimension = 16, VectorKind = VectorKind.Int8,
        });
        Assert.Equal(fromRows, fs.ReadAllBytes(SegmentPath));
        // Rows of the wrong size, or with float storage, are refused before anything is written.
        Assert.Throws<ArgumentException>(() => SegmentWriter.Write(fs, Dir, "seg-0000000002.hdbs", new SegmentContents
        {
            Codes = floats.Codes, KeyKind = floats.KeyKind, Keys = floats.Keys, VectorDimension = 16, VectorKind = VectorKind.Int8, Int8Rows = rows[..^1],
        }));
        Assert.Throws<ArgumentException>(() => SegmentWriter.Write(fs, Dir, "seg-0000000002.hdbs", new SegmentContents
        {
            Codes = floats.Codes, KeyKind = floats.KeyKind, Keys = floats.Keys, VectorDimension = 16, VectorKind = VectorKind.Float32, Int8Rows = rows,
        }));
        Assert.False(fs.FileExists(Path.Combine(Dir, "seg-0000000002.hdbs")));
    }

    [Fact]
    public void Every_bit_flip_in_the_int8_vectors_and_their_padding_is_caught()
    {
        SegmentContents floats = SegmentTests.Contents(9, 64, 40, KeyKind.UInt64, payloads: false, dimension: 5);
        var fs = new MemoryFileSystem();
        SegmentWriter.Write(fs, Dir, Name, new SegmentContents
        {
            Codes = floats.Codes, KeyKind = floats.KeyKind, Keys = floats.Keys, Vectors = floats.Vectors, VectorDimension = 5, VectorKind = VectorKind.Int8,
        });
        byte[] whole = fs.ReadAllBytes(SegmentPath);
        int vectorsAt = 64 + 40 * 8; // 384, already aligned
        int vectorsEnd = (int)SegmentFormat.Align64(vectorsAt + 40 * 9);
        for (int bit = vectorsAt * 8; bit < vectorsEnd * 8; bit++)
        {
            byte[] damaged = whole.ToArray();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            fs.Replace(SegmentPath, damaged);
            var problems = new List<CorruptionException>();
            try
            {
                using SegmentReader reader = SegmentReader.Open(fs, SegmentPath, verifyCodes: false);
                reader.Verify(problems.Add);
            }
            catch (CorruptionException e)
            {
                problems.Add(e);
            }
            Assert.True(problems.Count > 0, $"bit {bit} (byte {bit / 8})");
        }
    }
}
