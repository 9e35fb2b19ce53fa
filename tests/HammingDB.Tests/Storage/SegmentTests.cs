using System.Buffers.Binary;
using System.Text;
using HammingDB.Kernels;
using HammingDB.Storage;
using HammingDB.Storage.Segments;
using Xunit.Abstractions;

namespace HammingDB.Tests.Storage;

public class SegmentTests(ITestOutputHelper output)
{
    private const string Dir = "/db";
    private const string Name = "seg-0000000001.hdbs";
    private static readonly string SegmentPath = Path.Combine(Dir, Name);

    internal static byte[] U64Key(ulong key)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, key);
        return bytes;
    }

    internal static SegmentContents Contents(int seed, int bits, int rows, KeyKind kind, bool payloads, int dimension)
    {
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        PackedCodes codes = TestData.Codes(random, layout, rows);
        List<byte[]> keys = kind switch
        {
            KeyKind.UInt64 => Enumerable.Range(0, rows).Select(i => U64Key((ulong)i * 3 + 1)).ToList(),
            KeyKind.Guid => Enumerable.Range(0, rows).Select(_ => Guid.NewGuid().ToByteArray()).OrderBy(b => b, ByteOrder.Instance).ToList(),
            _ => Enumerable.Range(0, rows).Select(i => Encoding.UTF8.GetBytes($"key-{i:D7}-{new string('x', i % 50)}")).OrderBy(b => b, ByteOrder.Instance).ToList(),
        };
        return new SegmentContents
        {
            Codes = codes,
            KeyKind = kind,
            Keys = keys,
            Payloads = payloads ? Enumerable.Range(0, rows).Select(i => Encoding.UTF8.GetBytes(new string((char)('a' + i % 26), i % 40))).ToList() : null,
            Vectors = Enumerable.Range(0, rows * dimension).Select(i => (float)(random.NextDouble() - 0.5)).ToArray(),
            VectorDimension = dimension,
        };
    }

    internal static void AssertReadsBack(SegmentContents contents, SegmentReader reader)
    {
        Assert.Equal(contents.Codes.Count, reader.Rows);
        Assert.Equal(contents.Codes.Layout, reader.Layout);
        Assert.Equal(contents.KeyKind, reader.KeyKind);
        Assert.True(contents.Codes.Words.SequenceEqual(reader.Codes.Words));
        for (int row = 0; row < reader.Rows; row += Math.Max(1, reader.Rows / 97))
        {
            Assert.Equal(contents.Keys[row], reader.GetKey(row));
            if (contents.Payloads is { } payloads)
            {
                Assert.Equal(payloads[row], reader.GetPayload(row));
            }
            if (contents.VectorDimension > 0)
            {
                Assert.Equal(contents.Vectors.AsSpan(row * contents.VectorDimension, contents.VectorDimension).ToArray(), reader.GetVector(row).ToArray());
            }
        }
        if (reader.Rows > 0)
        {
            Assert.Equal(contents.Keys[^1], reader.GetKey(reader.Rows - 1));
        }
        Assert.Equal(contents.MihTables.Count, reader.MihTables.Count);
        for (int t = 0; t < contents.MihTables.Count; t++)
        {
            SegmentMihTable written = contents.MihTables[t];
            MappedMihTable read = reader.MihTables[t];
            Assert.Equal((written.Start, written.Bits, written.DirectBits), (read.Start, read.Bits, read.DirectBits));
            Assert.True(read.Offsets.Span.SequenceEqual(written.Offsets), $"table {t} offsets");
            Assert.True(read.Rows.Span.SequenceEqual(written.Rows), $"table {t} rows");
            Assert.Equal(written.Codes is not null, read.HasInlineCodes);
            Assert.True(read.Codes.Span.SequenceEqual(written.Codes), $"table {t} codes");
            Assert.Equal(written.FilterWords is not null, read.HasFilterWords);
            Assert.True(read.FilterWords.Span.SequenceEqual(written.FilterWords), $"table {t} filter words");
        }
        reader.VerifyBlocks();
    }

    [Theory]
    [InlineData(64, 1, 1, false, 0)]
    [InlineData(64, 10_000, 1, true, 0)]
    [InlineData(256, 9_000, 2, true, 4)]
    [InlineData(72, 4_096, 3, false, 3)]
    [InlineData(1024, 300, 2, false, 0)]
    [InlineData(128, 0, 1, true, 2)]
    public void Segments_read_back_exactly(int bits, int rows, int keyKind, bool payloads, int dimension)
    {
        var kind = (KeyKind)keyKind;
        int seed = bits * 7 + rows;
        output.WriteLine($"seed {seed}");
        SegmentContents contents = Contents(seed, bits, rows, kind, payloads, dimension);
        var fs = new MemoryFileSystem();
        SegmentWriter.Write(fs, Dir, Name, contents);
        Assert.Equal([Name], fs.ListFiles(Dir));
        using SegmentReader reader = SegmentReader.Open(fs, SegmentPath);
        AssertReadsBack(contents, reader);
    }

    [Fact]
    public void Golden_bytes_of_a_small_segment()
    {
        var layout = new CodeLayout(64);
        var codes = new PackedCodes(layout, 2);
        codes.Add([0x0123456789ABCDEFUL]);
        codes.Add([0xFFUL]);
        var contents = new SegmentContents { Codes = codes, KeyKind = KeyKind.UInt64, Keys = [U64Key(0x0123456789ABCDEF), U64Key(0xFEDCBA9876543210)], Payloads = [[0xAA], []] };
        var fs = new MemoryFileSystem();
        SegmentWriter.Write(fs, Dir, Name, contents);
        string hex = Convert.ToHexString(fs.ReadAllBytes(SegmentPath)).ToLowerInvariant();
        output.WriteLine(hex);
        string expected = string.Concat(
            // header: magic, version 2, 64 bits, 2 rows, key kind 1, flags 1 (payloads), dimension 0, reserved, CRC
            "48444253454 74d54".Replace(" ", "", StringComparison.Ordinal), "02000000", "40000000", "0200000000000000", "01000000", "01000000", "00000000",
            new string('0', 48), "HEADERCRC",
            // codes, padded to 64 bytes
            "efcdab8967452301", "ff00000000000000", new string('0', 96),
            // key block: CRC, 16 raw, 16 stored, raw encoding (LZ4 would not shrink it); two keys big-endian
            "KEYBLOCKCRC", "10000000", "10000000", "00000000", "0123456789abcdef", "fedcba9876543210",
            // payload block: CRC, 9 raw, 9 stored, raw; [len 1, 0xaa], [len 0]
            "PAYLOADCRC", "09000000", "09000000", "00000000", "01000000aa", "00000000",
            // metadata: code chunk CRC; key block offsets 128, 160; payload block offsets 160, 185; 0 MIH tables (no MIH chunk CRC)
            "CODECRC", "8000000000000000", "a000000000000000", "a000000000000000", "b900000000000000", "00000000",
            // footer: codes 64, vectors 0, metadata 185, 40 bytes, metadata CRC, rows 2, 64 bits, kind 1, flags 1, dim 0, version 2, CRC
            "4000000000000000", "0000000000000000", "b900000000000000", "28000000", "METADATACRC",
            "0200000000000000", "40000000", "01000000", "01000000", "00000000", "02000000", "FOOTERCRC");
        // The checksums are computed here with Crc32C (pinned by its own test vectors).
        byte[] bytes = fs.ReadAllBytes(SegmentPath);
        string Crc(int from, int to) => Convert.ToHexString(BitConverter.GetBytes(Crc32C.Compute(bytes.AsSpan(from, to - from)))).ToLowerInvariant();
        expected = expected.Replace("HEADERCRC", Crc(0, 60), StringComparison.Ordinal)
            .Replace("KEYBLOCKCRC", Crc(132, 160), StringComparison.Ordinal)
            .Replace("PAYLOADCRC", Crc(164, 185), StringComparison.Ordinal)
            .Replace("CODECRC", Crc(64, 80), StringComparison.Ordinal)
            .Replace("METADATACRC", Crc(185, 225), StringComparison.Ordinal)
            .Replace("FOOTERCRC", Crc(225, 285), StringComparison.Ordinal);
        Assert.Equal(expected, hex);
    }

    [Fact]
    public void Every_single_bit_flip_is_caught_or_harmless_and_every_truncation_is_caught()
    {
        SegmentContents contents = Contents(11, 64, 5, KeyKind.String, payloads: true, dimension: 2);
        var fs = new MemoryFileSystem();
        SegmentWriter.Write(fs, Dir, Name, contents);
        byte[] whole = fs.ReadAllBytes(SegmentPath);
        (int caught, int harmless) = FlipEveryBitAndCut(fs, SegmentPath, whole, contents, _ => { }); // only padding and reserved bytes may change nothing
        output.WriteLine($"{caught} flips caught, {harmless} in padding or reserved bytes");
        // 5 codes (40 bytes) and 5 x 2 floats (40 bytes) are each padded to 64: 48 bytes of zero
        // padding that no reader uses are the only bytes a flip may leave unnoticed.
        Assert.Equal(8 * 48, harmless);
    }

    /// <summary>
    /// Flips every bit of <paramref name="whole"/> (the file at <paramref name="path"/>) in turn: open must refuse it (a <see cref="CorruptionException"/>
    /// naming the file) or read back <paramref name="contents"/> exactly, and then <paramref name="harmlessAt"/> is
    /// called with the byte; then every truncation must be refused. Returns the flips caught and those harmless.
    /// </summary>
    internal static (int Caught, int Harmless) FlipEveryBitAndCut(MemoryFileSystem fs, string path, byte[] whole, SegmentContents contents, Action<int> harmlessAt)
    {
        int caught = 0, harmless = 0;
        for (int bit = 0; bit < whole.Length * 8; bit++)
        {
            byte[] damaged = whole.ToArray();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            fs.Replace(path, damaged);
            try
            {
                using SegmentReader reader = SegmentReader.Open(fs, path);
                AssertReadsBack(contents, reader);
                harmlessAt(bit / 8);
                harmless++;
            }
            catch (CorruptionException e)
            {
                Assert.Equal(path, e.FilePath);
                caught++;
            }
        }
        for (int cut = 0; cut < whole.Length; cut++)
        {
            fs.Replace(path, whole[..cut]);
            Assert.Throws<CorruptionException>(() => SegmentReader.Open(fs, path).Dispose());
        }
        return (caught, harmless);
    }

    [Fact]
    public void Verify_reports_every_single_bit_flip_open_lets_through_padding_included()
    {
        SegmentContents contents = Contents(11, 64, 5, KeyKind.String, payloads: true, dimension: 2);
        var fs = new MemoryFileSystem();
        SegmentWriter.Write(fs, Dir, Name, contents);
        byte[] whole = fs.ReadAllBytes(SegmentPath);
        int atOpen = 0, byVerify = 0;
        for (int bit = 0; bit < whole.Length * 8; bit++)
        {
            byte[] damaged = whole.ToArray();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            fs.Replace(SegmentPath, damaged);
            SegmentReader reader;
            try
            {
                reader = SegmentReader.Open(fs, SegmentPath, verifyCodes: false);
            }
            catch (CorruptionException)
            {
                atOpen++;
                continue;
            }
            using (reader)
            {
                var found = new List<CorruptionException>();
                reader.Verify(found.Add);
                Assert.True(found.Count > 0, $"bit {bit} (byte {bit / 8}) flipped and nothing reported");
                Assert.All(found, e => Assert.Equal(SegmentPath, e.FilePath));
                Assert.Contains(found, e => e.Offset <= bit / 8);
                byVerify++;
            }
        }
        output.WriteLine($"{atOpen} flips caught at open, {byVerify} by Verify");
        Assert.True(byVerify >= 8 * 48, "the padding, codes, vectors and blocks are left to Verify");
    }

    [Fact]
    public void Verify_goes_on_after_each_damage_and_checks_key_order_and_keys()
    {
        const int rows = 3 * SegmentFormat.RowsPerBlock - 7; // three key blocks, padding after the codes
        SegmentContents contents = Contents(21, 64, rows, KeyKind.Guid, payloads: true, dimension: 0);
        var fs = new MemoryFileSystem();
        SegmentWriter.Write(fs, Dir, Name, contents);
        byte[] bytes = fs.ReadAllBytes(SegmentPath);
        long codesEnd = SegmentFormat.HeaderBytes + rows * 8L;
        int keyBlock = (int)SegmentFormat.Align64(codesEnd);
        Assert.Equal(0, bytes[keyBlock + 12]); // random GUIDs are stored raw
        // Swap the keys of rows 1 and 2 and fix the block's checksum: only the order check can tell.
        Span<byte> keys = bytes.AsSpan(keyBlock + SegmentFormat.BlockHeaderBytes);
        byte[] row1 = keys.Slice(16, 16).ToArray();
        keys.Slice(32, 16).CopyTo(keys.Slice(16, 16));
        row1.CopyTo(keys.Slice(32, 16));
        int stored = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(keyBlock + 8));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(keyBlock), Crc32C.Compute(bytes.AsSpan(keyBlock + 4, SegmentFormat.BlockHeaderBytes - 4 + stored)));
        int secondBlock = keyBlock + SegmentFormat.BlockHeaderBytes + stored;
        bytes[secondBlock + SegmentFormat.BlockHeaderBytes + 5] ^= 1; // the second key block
        bytes[SegmentFormat.HeaderBytes + 8 * 100] ^= 4;            // a code
        bytes[codesEnd + 3] = 0x80;                                 // padding after the codes
        bytes[^(SegmentFormat.FooterBytes + 200)] ^= 2;             // the last payload block (the metadata before the footer is 72 bytes)
        fs.Replace(SegmentPath, bytes);

        using SegmentReader reader = SegmentReader.Open(fs, SegmentPath, verifyCodes: false);
        var found = new List<CorruptionException>();
        reader.Verify(found.Add, keyProblem: key => key[0] == contents.Keys[^1][0] ? "is the last key's first byte" : null);
        foreach (CorruptionException e in found)
        {
            output.WriteLine($"{e.Offset}: {e.Reason}");
        }
        Assert.Contains(found, e => e.Offset == SegmentFormat.HeaderBytes && e.Reason.Contains("MiB of codes", StringComparison.Ordinal));
        Assert.Contains(found, e => e.Offset == codesEnd + 3 && e.Reason.Contains("padding", StringComparison.Ordinal));
        Assert.Contains(found, e => e.Offset == keyBlock && e.Reason.Contains("row 2 does not follow", StringComparison.Ordinal));
        Assert.Contains(found, e => e.Offset == secondBlock && e.Reason.Contains("block checksum", StringComparison.Ordinal));
        Assert.Contains(found, e => e.Reason.Contains("is the last key's first byte", StringComparison.Ordinal));
        Assert.Single(found, e => e.Offset > secondBlock && e.Reason.Contains("block checksum", StringComparison.Ordinal)); // the payload block
        Assert.Throws<CorruptionException>(reader.VerifyBlocks);
    }

    [Fact]
    public void KeyEquals_compares_the_stored_key_without_copying_keys()
    {
        foreach (KeyKind kind in new[] { KeyKind.UInt64, KeyKind.String, KeyKind.Guid })
        {
            SegmentContents contents = Contents(31, 64, 5000, kind, payloads: false, dimension: 0);
            var fs = new MemoryFileSystem();
            SegmentWriter.Write(fs, Dir, Name, contents);
            using SegmentReader reader = SegmentReader.Open(fs, SegmentPath);
            // Lone lookups (decoded up to the row, or read in place), runs in one block (decoded whole, kept), and both again.
            foreach (int row in new[] { 4999, 0, 4096, 1, 4095, 4097, 4998, 4999, 2 })
            {
                Assert.True(reader.KeyEquals(row, contents.Keys[row]), $"{kind} row {row}");
                Assert.False(reader.KeyEquals(row, contents.Keys[(row + 1) % 5000]));
                Assert.False(reader.KeyEquals(row, contents.Keys[row].AsSpan(1)));
            }
            // A damaged key block is caught at its first lookup.
            byte[] bytes = fs.ReadAllBytes(SegmentPath);
            bytes[SegmentFormat.Align64(SegmentFormat.HeaderBytes + 5000 * 8L) + SegmentFormat.BlockHeaderBytes + 3] ^= 1;
            fs.Replace(SegmentPath, bytes);
            using SegmentReader damaged = SegmentReader.Open(fs, SegmentPath);
            Assert.Throws<CorruptionException>(() => damaged.KeyEquals(7, contents.Keys[7]));
            Assert.True(damaged.KeyEquals(4500, contents.Keys[4500]));
        }
    }

    [Fact]
    public void A_segment_on_disk_is_mapped_for_the_kernels()
    {
        string dir = Directory.CreateTempSubdirectory("hdb-seg-").FullName;
        try
        {
            SegmentContents contents = Contents(5, 256, 20_000, KeyKind.UInt64, payloads: false, dimension: 0);
            SegmentWriter.Write(PosixFileSystem.Instance, dir, Name, contents);
            using SegmentReader reader = SegmentReader.Open(PosixFileSystem.Instance, Path.Combine(dir, Name));
            AssertReadsBack(contents, reader);
            ulong[] query = contents.Codes[123].ToArray();
            Assert.Equal(ExhaustiveSearch.Knn(contents.Codes, query, 10), ExhaustiveSearch.Knn(reader.Codes, query, 10));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Bad_contents_are_refused_before_anything_is_written()
    {
        var fs = new MemoryFileSystem();
        SegmentContents good = Contents(3, 64, 10, KeyKind.UInt64, payloads: true, dimension: 0);
        var unsorted = new SegmentContents { Codes = good.Codes, KeyKind = KeyKind.UInt64, Keys = good.Keys.Reverse().ToList() };
        Assert.Contains("ascend", Assert.Throws<ArgumentException>(() => SegmentWriter.Write(fs, Dir, Name, unsorted)).Message, StringComparison.Ordinal);
        var wrongKey = new SegmentContents { Codes = good.Codes, KeyKind = KeyKind.Guid, Keys = good.Keys };
        Assert.Throws<ArgumentException>(() => SegmentWriter.Write(fs, Dir, Name, wrongKey));
        var missing = new SegmentContents { Codes = good.Codes, KeyKind = KeyKind.UInt64, Keys = good.Keys.Take(9).ToList() };
        Assert.Throws<ArgumentException>(() => SegmentWriter.Write(fs, Dir, Name, missing));
        Assert.Empty(fs.ListFiles(Dir));
    }

    internal sealed class ByteOrder : IComparer<byte[]>
    {
        public static ByteOrder Instance { get; } = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
