using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HammingDB.Index.Mih;
using HammingDB.Kernels;
using HammingDB.Storage;
using HammingDB.Storage.Segments;
using Xunit.Abstractions;

namespace HammingDB.Tests.Storage;

/// <summary>
/// Segment format 2: MIH tables stored in the segment (64-byte aligned arrays, a CRC-32C per MiB of
/// the section), mapped in place on read; version 1 still read; damage and impossible metadata refused.
/// </summary>
public class SegmentMihTests(ITestOutputHelper output)
{
    private const string Dir = "/db";
    private const string Name = "seg-0000000001.hdbs";
    private static readonly string SegmentPath = Path.Combine(Dir, Name);

    // The golden segment: five 16-bit codes, u64 keys, no payloads, and two tables built by hand.
    private static readonly ulong[] GoldenCodes = [0x1234, 0xABCD, 0x00FF, 0x8001, 0x1200];
    private static readonly ulong[] GoldenKeys = [0x0123456789ABCDEF, 0x13579BDF02468ACE, 0x2F1E0D3C4B5A6978, 0x8F7E6D5C4B3A2918, 0xFEDCBA9876543210];

    // Table 0: bits 0..7, bucket = bits 4..7: rows 3, 4 in bucket 0; row 0 in 3; row 1 in 12; row 2 in 15.
    private static SegmentMihTable GoldenTable0() => new()
    {
        Start = 0,
        Bits = 8,
        DirectBits = 4,
        Offsets = [0, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 5],
        Rows = [3, 4, 0, 1, 2],
    };

    // Table 1: bits 8..15, all direct: row 2 in bucket 0x00; rows 0, 4 in 0x12; row 3 in 0x80; row 1 in 0xab; codes inline.
    private static SegmentMihTable GoldenTable1() => new()
    {
        Start = 8,
        Bits = 8,
        DirectBits = 8,
        Offsets = [0, .. Enumerable.Repeat(1, 18), .. Enumerable.Repeat(3, 110), .. Enumerable.Repeat(4, 43), .. Enumerable.Repeat(5, 85)],
        Rows = [2, 0, 4, 3, 1],
        Codes = [0x00FF, 0x1234, 0x1200, 0x8001, 0xABCD],
    };

    private static SegmentContents GoldenContents(IReadOnlyList<SegmentMihTable>? tables = null)
    {
        var codes = new PackedCodes(new CodeLayout(16), GoldenCodes.Length);
        foreach (ulong code in GoldenCodes)
        {
            codes.Add([code]);
        }
        return new SegmentContents
        {
            Codes = codes,
            KeyKind = KeyKind.UInt64,
            Keys = GoldenKeys.Select(SegmentTests.U64Key).ToList(),
            MihTables = tables ?? [GoldenTable0(), GoldenTable1()],
        };
    }

    private static SegmentContents WithTables(SegmentContents contents, IReadOnlyList<SegmentMihTable> tables) => new()
    {
        Codes = contents.Codes,
        KeyKind = contents.KeyKind,
        Keys = contents.Keys,
        Payloads = contents.Payloads,
        Vectors = contents.Vectors,
        VectorDimension = contents.VectorDimension,
        MihTables = tables,
    };

    /// <summary>The tables the Index layer builds for <paramref name="layout"/>, as handed to the writer.</summary>
    internal static List<SegmentMihTable> BuildTables(CodeBlock codes, MihLayout layout, bool filterWords = false) =>
        Enumerable.Range(0, layout.Count).Select(i => MihTable.Build(codes, layout, i, filterWords)).Select(t => new SegmentMihTable
        {
            Start = t.Start,
            Bits = t.Bits,
            DirectBits = t.DirectBits,
            Offsets = t.Offsets.ToArray(),
            Rows = t.Rows.ToArray(),
            Codes = t.HasInlineCodes ? t.InlineCodes.ToArray() : null,
            FilterWords = t.HasFilterWords ? t.FilterWords.ToArray() : null,
        }).ToList();

    private static MemoryFileSystem Written(SegmentContents contents)
    {
        var fs = new MemoryFileSystem();
        SegmentWriter.Write(fs, Dir, Name, contents);
        return fs;
    }

    private static string Le32(params int[] values) => string.Concat(values.Select(v => Convert.ToHexString(BitConverter.GetBytes(v)).ToLowerInvariant()));

    private static string Le64(params ulong[] values) => string.Concat(values.Select(v => Convert.ToHexString(BitConverter.GetBytes(v)).ToLowerInvariant()));

    private static string Zeros(int bytes) => new('0', 2 * bytes);

    // The file offset of the first element of a mapped array, from the codes (at 64) of the same mapping: proves the memory
    // is the mapping itself, not a copy.
    private static long FileOffsetOf<T>(SegmentReader reader, ReadOnlyMemory<T> memory)
        where T : unmanaged
    {
        ref byte codes = ref Unsafe.As<ulong, byte>(ref MemoryMarshal.GetReference(reader.Codes.Words));
        ref byte first = ref Unsafe.As<T, byte>(ref MemoryMarshal.GetReference(memory.Span));
        return SegmentFormat.HeaderBytes + Unsafe.ByteOffset(ref codes, ref first);
    }

    // Recomputes the header, metadata and footer checksums after a test changed the bytes they cover.
    private static void Reseal(byte[] bytes)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(60), Crc32C.Compute(bytes.AsSpan(0, 60)));
        Span<byte> footer = bytes.AsSpan(bytes.Length - SegmentFormat.FooterBytes);
        int metadataOffset = (int)BinaryPrimitives.ReadUInt64LittleEndian(footer[16..]);
        int metadataBytes = BinaryPrimitives.ReadInt32LittleEndian(footer[24..]);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[28..], Crc32C.Compute(bytes.AsSpan(metadataOffset, metadataBytes)));
        BinaryPrimitives.WriteUInt32LittleEndian(footer[60..], Crc32C.Compute(footer[..60]));
    }

    [Fact]
    public void The_golden_tables_are_what_the_index_layer_builds()
    {
        SegmentContents contents = GoldenContents();
        PackedCodes codes = contents.Codes;
        SegmentMihTable built0 = BuildTables(codes.Block, MihLayout.Split(16, 2, maxDirectBits: 4))[0];
        SegmentMihTable built1 = BuildTables(codes.Block, MihLayout.Split(16, 2))[1];
        foreach ((SegmentMihTable hand, SegmentMihTable built) in new[] { (GoldenTable0(), built0), (GoldenTable1(), built1) })
        {
            Assert.Equal((hand.Start, hand.Bits, hand.DirectBits), (built.Start, built.Bits, built.DirectBits));
            Assert.Equal(hand.Offsets, built.Offsets);
            Assert.Equal(hand.Rows, built.Rows);
            if (hand.Codes is not null) // table 0 is stored without the inline codes the Index layer would give it
            {
                Assert.Equal(hand.Codes, built.Codes);
            }
        }
    }

    [Fact]
    public void Golden_bytes_of_a_small_segment_with_two_mih_tables()
    {
        MemoryFileSystem fs = Written(GoldenContents());
        byte[] bytes = fs.ReadAllBytes(SegmentPath);
        string hex = Convert.ToHexString(bytes).ToLowerInvariant();
        output.WriteLine(hex);
        SegmentMihTable t0 = GoldenTable0(), t1 = GoldenTable1();
        string expected = string.Concat(
            // header: magic, version 2, 16 bits, 5 rows, key kind 1, flags 0, dimension 0, reserved, CRC
            "4844425345474d54", "02000000", "10000000", "0500000000000000", "01000000", "00000000", "00000000", Zeros(24), "HEADERCRC",
            // codes at 64, one word each, padded to 128
            "3412000000000000", "cdab000000000000", "ff00000000000000", "0180000000000000", "0012000000000000", Zeros(24),
            // MIH section at 128. Table 0: 17 offsets at 128 (68 bytes, padded to 256), 5 rows at 256 (padded to 320)
            Le32(t0.Offsets), Zeros(60), Le32(3, 4, 0, 1, 2), Zeros(44),
            // table 1: 257 offsets at 320 (1028 bytes, padded to 1408), 5 rows at 1408 (padded to 1472), 5 codes at 1472 (padded to 1536)
            Le32(t1.Offsets), Zeros(60), Le32(2, 0, 4, 3, 1), Zeros(44), Le64(0x00FF, 0x1234, 0x1200, 0x8001, 0xABCD), Zeros(24),
            // key block at 1536: CRC, 40 raw, 40 stored, raw encoding; five keys big-endian
            "KEYBLOCKCRC", "28000000", "28000000", "00000000",
            "0123456789abcdef", "13579bdf02468ace", "2f1e0d3c4b5a6978", "8f7e6d5c4b3a2918", "fedcba9876543210",
            // metadata at 1592: code chunk CRC; key block offsets 1536, 1592; 2 MIH tables:
            "CODECRC", Le64(1536, 1592), "02000000",
            //   start 0, 8 bits, 4 direct, flags 0, offsets at 128, rows at 256, no codes
            Le32(0, 8, 4, 0), Le64(128, 256, 0),
            //   start 8, 8 bits, 8 direct, flags 1 (inline codes), offsets at 320, rows at 1408, codes at 1472
            Le32(8, 8, 8, 1), Le64(320, 1408, 1472),
            //   one MIH chunk CRC (the section 128..1536 is under 1 MiB)
            "MIHCRC",
            // footer at 1700: codes 64, vectors 0, metadata 1592, 108 bytes, metadata CRC, rows 5, 16 bits, kind 1, flags 0, dim 0, version 2, CRC
            Le64(64, 0, 1592), "6c000000", "METADATACRC", "0500000000000000", "10000000", "01000000", "00000000", "00000000", "02000000", "FOOTERCRC");
        // The checksums are computed here with Crc32C (pinned by its own test vectors).
        string Crc(int from, int to) => Convert.ToHexString(BitConverter.GetBytes(Crc32C.Compute(bytes.AsSpan(from, to - from)))).ToLowerInvariant();
        expected = expected.Replace("HEADERCRC", Crc(0, 60), StringComparison.Ordinal)
            .Replace("KEYBLOCKCRC", Crc(1540, 1592), StringComparison.Ordinal)
            .Replace("CODECRC", Crc(64, 104), StringComparison.Ordinal)
            .Replace("MIHCRC", Crc(128, 1536), StringComparison.Ordinal)
            .Replace("METADATACRC", Crc(1592, 1700), StringComparison.Ordinal)
            .Replace("FOOTERCRC", Crc(1700, 1760), StringComparison.Ordinal);
        Assert.Equal(1764, bytes.Length);
        Assert.Equal(expected, hex);

        using SegmentReader reader = SegmentReader.Open(fs, SegmentPath);
        SegmentTests.AssertReadsBack(GoldenContents(), reader);
        Assert.Equal([128L, 320L], reader.MihTables.Select(t => FileOffsetOf(reader, t.Offsets)));
        Assert.Equal([256L, 1408L], reader.MihTables.Select(t => FileOffsetOf(reader, t.Rows)));
        Assert.Equal(1472L, FileOffsetOf(reader, reader.MihTables[1].Codes));
        Assert.True(reader.MihTables[0].Codes.IsEmpty);
    }

    // The segment of SegmentTests.Golden_bytes_of_a_small_segment as version 1 wrote it (two 64-bit codes, u64 keys, payloads).
    private const string Version1Hex =
        "4844425345474d540100000040000000020000000000000001000000010000000000000000000000000000000000000000000000000000000000000075f9519d" +
        "efcdab8967452301ff00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "e503cd661000000010000000000000000123456789abcdeffedcba9876543210db43683409000000090000000000000001000000aa0000000024f18bb5800000" +
        "0000000000a000000000000000a000000000000000b90000000000000040000000000000000000000000000000b90000000000000024000000d85781a2020000" +
        "00000000004000000001000000010000000000000001000000da481e66";

    [Fact]
    public void A_version_1_segment_still_opens_with_no_tables_and_other_versions_are_refused()
    {
        var fs = new MemoryFileSystem();
        byte[] v1 = Convert.FromHexString(Version1Hex);
        fs.CreateDirectory(Dir);
        fs.Create(SegmentPath).Dispose();
        fs.Replace(SegmentPath, v1);
        using (SegmentReader reader = SegmentReader.Open(fs, SegmentPath))
        {
            Assert.Equal(2, reader.Rows);
            Assert.Equal([0x0123456789ABCDEFUL, 0xFFUL], reader.Codes.Words.ToArray());
            Assert.Equal([SegmentTests.U64Key(0x0123456789ABCDEF), SegmentTests.U64Key(0xFEDCBA9876543210)], reader.AllKeys());
            Assert.Equal(new byte[][] { [0xAA], [] }, reader.AllPayloads());
            Assert.Empty(reader.MihTables);
            Assert.True(reader.MihTablesVerified);
            reader.VerifyMihTables();
            var found = new List<CorruptionException>();
            reader.Verify(found.Add);
            Assert.Empty(found);
        }

        // Version 2 in both header and footer of a version-1 file: its metadata lacks the table count.
        byte[] relabelled = v1.ToArray();
        relabelled[8] = 2;
        relabelled[^8] = 2;
        Reseal(relabelled);
        fs.Replace(SegmentPath, relabelled);
        CorruptionException e = Assert.Throws<CorruptionException>(() => SegmentReader.Open(fs, SegmentPath).Dispose());
        Assert.Equal((relabelled.Length - SegmentFormat.FooterBytes + 24, "the metadata holds 36 bytes; at least 40 were expected"), (e.Offset, e.Reason));

        // A header and a footer of different versions; a version from the future.
        byte[] v2 = Written(GoldenContents()).ReadAllBytes(SegmentPath);
        byte[] mixed = v2.ToArray();
        mixed[^8] = 1;
        Reseal(mixed);
        fs.Replace(SegmentPath, mixed);
        e = Assert.Throws<CorruptionException>(() => SegmentReader.Open(fs, SegmentPath).Dispose());
        Assert.Equal("the header and the footer disagree", e.Reason);
        byte[] future = v2.ToArray();
        future[8] = 3;
        future[^8] = 3;
        Reseal(future);
        fs.Replace(SegmentPath, future);
        e = Assert.Throws<CorruptionException>(() => SegmentReader.Open(fs, SegmentPath).Dispose());
        Assert.Equal((8L, "segment format version 3; this build reads versions 1 to 2"), (e.Offset, e.Reason));
    }

    [Theory]
    [InlineData(16, 3000, 1, false, 0, false)]
    [InlineData(64, 5000, 3, true, 3, false)]
    [InlineData(128, 2000, 2, true, 0, false)]
    [InlineData(128, 2000, 2, true, 0, true)]
    [InlineData(72, 3000, 1, false, 2, true)]
    [InlineData(64, 0, 1, false, 2, false)]
    public void Mih_tables_read_back_in_place_in_the_mapping(int bits, int rows, int keyKind, bool payloads, int dimension, bool filterWords)
    {
        int seed = bits * 11 + rows;
        output.WriteLine($"seed {seed}");
        SegmentContents plain = SegmentTests.Contents(seed, bits, rows, (KeyKind)keyKind, payloads, dimension);
        MihLayout layout = MihLayout.Choose(bits, rows);
        List<SegmentMihTable> tables = BuildTables(plain.Codes.Block, layout, filterWords);
        if (tables.Count + 3 <= bits) // (no rows: Choose already takes one table per bit)
        {
            tables.AddRange(BuildTables(plain.Codes.Block, MihLayout.Split(bits, 3, maxDirectBits: 10), filterWords)); // wide substrings: direct bits below the width
        }
        Assert.All(tables, t => Assert.Equal(bits <= 64, t.Codes is not null));
        Assert.All(tables, t => Assert.Equal(bits > 64 && filterWords, t.FilterWords is not null));
        SegmentContents contents = WithTables(plain, tables);
        MemoryFileSystem fs = Written(contents);
        SegmentReader reader = SegmentReader.Open(fs, SegmentPath);
        using (reader)
        {
            Assert.True(reader.MihTablesVerified);
            SegmentTests.AssertReadsBack(contents, reader);
            long dataEnd = SegmentFormat.Align64(dimension == 0 ? 64 + rows * 8L * ((bits + 63) / 64) : SegmentFormat.Align64(64 + rows * 8L * ((bits + 63) / 64)) + rows * 4L * dimension);
            long at = dataEnd;
            foreach (MappedMihTable table in reader.MihTables)
            {
                Assert.False(MemoryMarshal.TryGetArray(table.Offsets, out _)); // not a managed array: the mapping
                Assert.Equal(at, FileOffsetOf(reader, table.Offsets));
                long rowsAt = FileOffsetOf(reader, table.Rows);
                Assert.Equal(SegmentFormat.Align64(at + 4L * table.Offsets.Length), rowsAt);
                at = SegmentFormat.Align64(rowsAt + 4L * rows);
                Assert.Equal(bits > 64 && filterWords, table.HasFilterWords);
                if (table.HasInlineCodes || table.HasFilterWords)
                {
                    Assert.Equal(at, FileOffsetOf(reader, table.Words));
                    at = SegmentFormat.Align64(at + 8L * rows);
                }
                Assert.Equal(0, at % 64);
            }
        }
        MappedMihTable first = reader.MihTables[0];
        Assert.Throws<ObjectDisposedException>(() => first.Rows.Span.Length);
    }

    [Fact]
    public void Mih_tables_on_disk_are_mapped_and_used_in_place()
    {
        string dir = Directory.CreateTempSubdirectory("hdb-segmih-").FullName;
        try
        {
            SegmentContents plain = SegmentTests.Contents(9, 64, 20_000, KeyKind.UInt64, payloads: false, dimension: 0);
            SegmentContents contents = WithTables(plain, BuildTables(plain.Codes.Block, MihLayout.Choose(64, 20_000)));
            SegmentWriter.Write(PosixFileSystem.Instance, dir, Name, contents);
            using SegmentReader reader = SegmentReader.Open(PosixFileSystem.Instance, Path.Combine(dir, Name));
            SegmentTests.AssertReadsBack(contents, reader);
            // Every posting of every table, through the mapped arrays, holds its row's code in its row's bucket.
            foreach (MappedMihTable table in reader.MihTables)
            {
                ReadOnlySpan<int> offsets = table.Offsets.Span, postings = table.Rows.Span;
                ReadOnlySpan<ulong> codes = table.Codes.Span;
                for (int bucket = 0; bucket < offsets.Length - 1; bucket++)
                {
                    for (int p = offsets[bucket]; p < offsets[bucket + 1]; p++)
                    {
                        ulong code = reader.Codes[postings[p]][0];
                        Assert.Equal(code, codes[p]);
                        Assert.Equal((ulong)bucket, (code >> (table.Start + table.Bits - table.DirectBits)) & ((1UL << table.DirectBits) - 1));
                    }
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Every_single_bit_flip_of_a_segment_with_tables_is_caught_at_open_or_lies_in_the_code_padding()
    {
        SegmentContents contents = GoldenContents();
        MemoryFileSystem fs = Written(contents);
        byte[] whole = fs.ReadAllBytes(SegmentPath);
        // Only the zero padding after the codes goes unnoticed.
        (int caught, int harmless) = SegmentTests.FlipEveryBitAndCut(fs, SegmentPath, whole, contents, at => Assert.InRange(at, 104, 127));
        output.WriteLine($"{caught} flips caught, {harmless} in the padding after the codes");
        // The padding inside the MIH section is under its checksums: only the 24 bytes after the five codes are unchecked.
        Assert.Equal(8 * 24, harmless);
    }

    [Fact]
    public void Every_single_bit_flip_in_the_mih_section_is_found_by_VerifyMihTables_and_Verify_when_open_skips_them()
    {
        MemoryFileSystem fs = Written(GoldenContents());
        byte[] whole = fs.ReadAllBytes(SegmentPath);
        using (SegmentReader clean = SegmentReader.Open(fs, SegmentPath, verifyMihTables: false))
        {
            Assert.False(clean.MihTablesVerified);
            clean.VerifyMihTables();
            Assert.True(clean.MihTablesVerified);
        }
        const int sectionStart = 128, sectionEnd = 1536;
        for (int bit = sectionStart * 8; bit < sectionEnd * 8; bit++)
        {
            byte[] damaged = whole.ToArray();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            fs.Replace(SegmentPath, damaged);
            CorruptionException atOpen = Assert.Throws<CorruptionException>(() => SegmentReader.Open(fs, SegmentPath).Dispose());
            Assert.Equal((SegmentPath, (long)sectionStart), (atOpen.FilePath, atOpen.Offset));
            using SegmentReader reader = SegmentReader.Open(fs, SegmentPath, verifyMihTables: false);
            Assert.False(reader.MihTablesVerified);
            CorruptionException e = Assert.Throws<CorruptionException>(reader.VerifyMihTables);
            Assert.Equal((SegmentPath, (long)sectionStart, "the checksum of the MiB of MIH tables at 128 does not match"), (e.FilePath, e.Offset, e.Reason));
            Assert.False(reader.MihTablesVerified);
            var found = new List<CorruptionException>();
            reader.Verify(found.Add);
            Assert.Equal(sectionStart, Assert.Single(found).Offset);
        }
    }

    [Fact]
    public void Damage_to_a_large_mih_section_is_named_by_its_MiB()
    {
        const int rows = 200_000;
        SegmentContents plain = SegmentTests.Contents(17, 64, rows, KeyKind.UInt64, payloads: false, dimension: 0);
        SegmentContents contents = WithTables(plain, BuildTables(plain.Codes.Block, MihLayout.Split(64, 2, maxDirectBits: 20)));
        MemoryFileSystem fs = Written(contents);
        byte[] bytes = fs.ReadAllBytes(SegmentPath);
        long start = SegmentFormat.Align64(64 + rows * 8L);
        long end = start;
        foreach (SegmentMihTable table in contents.MihTables)
        {
            end = SegmentFormat.MihTablePlace(end, table.DirectBits, rows, table.Codes is not null).End;
        }
        const long MiB = 1 << 20;
        long last = (end - 1 - start) / MiB * MiB; // the last (partial) MiB
        Assert.True(last > 7 * MiB, $"{end - start} bytes");
        bytes[start + 3 * MiB + 12_345] ^= 0x10;
        bytes[start + 7 * MiB] ^= 0x01;
        bytes[end - 1] ^= 0x80; // the section's last byte
        fs.Replace(SegmentPath, bytes);
        Assert.Equal(start + 3 * MiB, Assert.Throws<CorruptionException>(() => SegmentReader.Open(fs, SegmentPath).Dispose()).Offset);
        using SegmentReader reader = SegmentReader.Open(fs, SegmentPath, verifyMihTables: false);
        Assert.Equal(start + 3 * MiB, Assert.Throws<CorruptionException>(reader.VerifyMihTables).Offset);
        var found = new List<CorruptionException>();
        reader.Verify(found.Add);
        Assert.Equal([start + 3 * MiB, start + 7 * MiB, start + last], found.Select(e => e.Offset));
        Assert.All(found, e => Assert.Contains("MiB of MIH tables", e.Reason, StringComparison.Ordinal));
    }

    // The golden segment's metadata: 1592; the table count at 1612; table 0's entry at 1616, table 1's at 1656; the footer at 1700.
    public static TheoryData<int, ulong, int, int, string> MetadataDamage() => new()
    {
        { 1612, 1_000_000, 4, 1612, "1000000 MIH tables for 16-bit codes" },
        { 1612, 3, 4, 1724, "3 MIH tables need at least 144" },
        { 1612, 1, 4, 1724, "the metadata holds 108 bytes; 68 were expected" },
        { 1616 + 16, 1L << 62, 8, 1632, "the offsets array of MIH table 0 at 4611686018427387904 (+68 bytes) lies outside the MIH section" },
        { 1616 + 16, 1764 + 1000, 8, 1632, "lies outside the MIH section" },
        { 1616 + 16, 192, 8, 1632, "the offsets array of MIH table 0 is at 192; following the array before it, 64-byte aligned, it must be at 128" },
        { 1656 + 24, ulong.MaxValue, 8, 1680, "the rows array of MIH table 1 at 18446744073709551615 (+20 bytes) lies outside" },
        { 1656 + 32, 1536, 8, 1688, "the codes array of MIH table 1 is at 1536; following the array before it, 64-byte aligned, it must be at 1472" },
        { 1656 + 32, 1580, 8, 1688, "the codes array of MIH table 1 at 1580 (+40 bytes) lies outside" },
        { 1616 + 4, 0, 4, 1620, "MIH table 0 indexes a substring of 0 bits (1..64)" },
        { 1616 + 4, 65, 4, 1620, "MIH table 0 indexes a substring of 65 bits (1..64)" },
        { 1656, 9, 4, 1656, "MIH table 1 indexes bits 9..16, outside the 16-bit code" },
        { 1656, uint.MaxValue, 4, 1656, "outside the 16-bit code" },
        { 1616 + 8, 0, 4, 1624, "MIH table 0 addresses 0 bits directly (1..24, at most its 8 bits)" },
        { 1616 + 8, 9, 4, 1624, "MIH table 0 addresses 9 bits directly" },
        { 1616 + 8, 25, 4, 1624, "MIH table 0 addresses 25 bits directly" },
        { 1616 + 8, 5, 4, 1640, "the rows array of MIH table 0 is at 256; following the array before it, 64-byte aligned, it must be at 320" },
        { 1616 + 12, 4, 4, 1628, "MIH table 0 has flags 4, which are unknown" },
        { 1616 + 12, 2, 4, 1628, "MIH table 0 has filter words, which 16-bit codes (at most 64) do not use" },
        { 1656 + 12, 3, 4, 1668, "MIH table 1 has flags 3: inline codes and filter words both, which exclude each other" },
        { 1616 + 12, 1, 4, 1648, "the codes array of MIH table 0 at 0 (+40 bytes) lies outside the MIH section" },
        { 1656 + 12, 0, 4, 1688, "MIH table 1 has no inline codes or filter words but a words array at 1472" },
        { 1696, 0, 4, 128, "the checksum of the MiB of MIH tables at 128 does not match" },
    };

    [Theory]
    [MemberData(nameof(MetadataDamage))]
    public void Mih_metadata_that_cannot_be_right_is_refused_naming_the_file_the_offset_and_the_reason(int at, ulong value, int size, int offset, string reason)
    {
        MemoryFileSystem fs = Written(GoldenContents());
        byte[] bytes = fs.ReadAllBytes(SegmentPath);
        if (size == 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), (uint)value);
        }
        else
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), value);
        }
        Reseal(bytes);
        fs.Replace(SegmentPath, bytes);
        CorruptionException e = Assert.Throws<CorruptionException>(() => SegmentReader.Open(fs, SegmentPath).Dispose());
        output.WriteLine($"{e.Offset}: {e.Reason}");
        Assert.Equal(SegmentPath, e.FilePath);
        Assert.Equal(offset, e.Offset);
        Assert.Contains(reason, e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Inline_codes_in_the_metadata_of_codes_over_64_bits_are_refused()
    {
        SegmentContents plain = SegmentTests.Contents(3, 128, 10, KeyKind.UInt64, payloads: false, dimension: 0);
        MemoryFileSystem fs = Written(WithTables(plain, BuildTables(plain.Codes.Block, MihLayout.Split(128, 2, maxDirectBits: 4))));
        byte[] bytes = fs.ReadAllBytes(SegmentPath);
        int metadataOffset = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(bytes.Length - SegmentFormat.FooterBytes + 16));
        int entry = metadataOffset + 4 + 16 + 4; // after the code chunk CRC, two key block offsets and the table count
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(entry + 12)));
        bytes[entry + 12] = 1;
        Reseal(bytes);
        fs.Replace(SegmentPath, bytes);
        CorruptionException e = Assert.Throws<CorruptionException>(() => SegmentReader.Open(fs, SegmentPath).Dispose());
        Assert.Equal((entry + 12L, "MIH table 0 has inline codes, which 128-bit codes cannot"), (e.Offset, e.Reason));
    }

    [Fact]
    public void Any_value_forged_into_the_mih_metadata_is_refused_as_corruption_or_opens_within_the_file()
    {
        MemoryFileSystem fs = Written(GoldenContents());
        byte[] whole = fs.ReadAllBytes(SegmentPath);
        int refused = 0, opened = 0;
        for (int at = 1612; at < 1700; at++)
        {
            foreach (byte value in new byte[] { 0x00, 0x01, 0x02, 0x40, 0x7F, 0x80, 0xFF, (byte)(whole[at] ^ 1), (byte)(whole[at] ^ 0x40) }.Distinct())
            {
                if (value == whole[at])
                {
                    continue;
                }
                byte[] forged = whole.ToArray();
                forged[at] = value;
                Reseal(forged);
                fs.Replace(SegmentPath, forged);
                try
                {
                    using SegmentReader reader = SegmentReader.Open(fs, SegmentPath);
                    foreach (MappedMihTable table in reader.MihTables)
                    {
                        Assert.InRange(FileOffsetOf(reader, table.Offsets), 128, 1536 - 4 * table.Offsets.Length);
                        Assert.InRange(FileOffsetOf(reader, table.Rows), 128, 1536 - 4 * table.Rows.Length);
                    }
                    opened++; // e.g. another start: the metadata's checksum was forged too, and the bounds hold
                }
                catch (CorruptionException e)
                {
                    Assert.Equal(SegmentPath, e.FilePath);
                    refused++;
                }
            }
        }
        output.WriteLine($"{refused} forged values refused, {opened} opened within the section");
        Assert.True(refused > 0);
    }

    [Fact]
    public void Bad_mih_tables_are_refused_before_anything_is_written()
    {
        var fs = new MemoryFileSystem();
        void Refused(string message, params SegmentMihTable[] tables) => Refused64(GoldenContents(tables), message);
        void Refused64(SegmentContents contents, string message)
        {
            ArgumentException e = Assert.Throws<ArgumentException>(() => SegmentWriter.Write(fs, Dir, Name, contents));
            Assert.Contains(message, e.Message, StringComparison.Ordinal);
        }
        SegmentMihTable t0 = GoldenTable0(), t1 = GoldenTable1();
        SegmentMihTable Changed(SegmentMihTable t, int? start = null, int? bits = null, int? directBits = null, int[]? offsets = null, int[]? rows = null, ulong[]? codes = null) => new()
        {
            Start = start ?? t.Start,
            Bits = bits ?? t.Bits,
            DirectBits = directBits ?? t.DirectBits,
            Offsets = offsets ?? t.Offsets,
            Rows = rows ?? t.Rows,
            Codes = codes ?? t.Codes,
        };

        Refused("17 MIH tables for 16-bit codes", Enumerable.Repeat(t0, 17).ToArray());
        Refused("a substring width must be 1..64", Changed(t0, bits: 0));
        Refused("a substring width must be 1..64", Changed(t0, bits: 65));
        Refused("the substring runs outside the 16-bit code", Changed(t1, start: 9));
        Refused("the substring runs outside the 16-bit code", Changed(t0, start: -1));
        Refused("direct bits must be 1..24", Changed(t0, directBits: 0));
        Refused("direct bits must be 1..24 and at most the substring width", Changed(t0, directBits: 9));
        Refused("17 offsets; 2^5 + 1 = 33 are needed", Changed(t0, directBits: 5));
        Refused("16 offsets; 2^4 + 1 = 17 are needed", Changed(t0, offsets: t0.Offsets[..16]));
        Refused("the offsets run from 1 to 5", Changed(t0, offsets: [1, .. t0.Offsets[1..]]));
        Refused("the offsets run from 0 to 4; they must run from 0 to the 5 rows", Changed(t0, offsets: [.. t0.Offsets[..16], 4]));
        Refused("offset 2 (1) is below offset 1 (2)", Changed(t0, offsets: [0, 2, 1, .. t0.Offsets[3..]]));
        Refused("4 postings; the segment has 5 rows", Changed(t0, rows: [3, 4, 0, 1]));
        Refused("posting 4 names row 5, outside [0, 5)", Changed(t0, rows: [3, 4, 0, 1, 5]));
        Refused("posting 0 names row -1, outside [0, 5)", Changed(t0, rows: [-1, 4, 0, 1, 2]));
        Refused("4 inline codes; the segment has 5 rows", t0, Changed(t1, codes: [1, 2, 3, 4]));
        Refused("no offsets", new SegmentMihTable { Start = 0, Bits = 8, DirectBits = 4, Offsets = null!, Rows = t0.Rows });
        Refused("MIH table 1 is null", t0, null!);

        SegmentContents wide = SegmentTests.Contents(3, 64, 5, KeyKind.UInt64, payloads: false, dimension: 0);
        Refused64(WithTables(wide, [new SegmentMihTable { Start = 0, Bits = 30, DirectBits = 25, Offsets = [0, 5], Rows = [0, 1, 2, 3, 4] }]),
            "direct bits must be 1..24");
        SegmentContents wider = SegmentTests.Contents(3, 128, 5, KeyKind.UInt64, payloads: false, dimension: 0);
        SegmentMihTable built = BuildTables(wider.Codes.Block, MihLayout.Split(128, 2, maxDirectBits: 4))[0];
        Refused64(WithTables(wider, [Changed(built, codes: [1, 2, 3, 4, 5])]), "inline codes are for codes of at most 64 bits, not 128");
        Assert.Empty(fs.ListFiles(Dir));

        // The same tables, well formed, are written.
        SegmentWriter.Write(fs, Dir, Name, WithTables(wider, [built]));
        Assert.Equal([Name], fs.ListFiles(Dir));
    }

    // The golden wide segment: three 72-bit codes (two words each), u64 keys, and two 12-bit tables (4 direct bits) with
    // filter words: 60 bits each (72 - 12), the bits after the substring wrapping round the code.
    private static readonly ulong[][] WideCodes = [[0x0123456789ABCDEF, 0x5A], [0xFEDCBA9876543210, 0xC3], [0x0F0F0F0F0F0F0F0F, 0x00]];

    // Table 0: bits 0..11, bucket = bits 8..11: row 1 in bucket 2, row 0 in 13, row 2 in 15; filter words = bits 12..71.
    private static SegmentMihTable WideTable0() => new()
    {
        Start = 0,
        Bits = 12,
        DirectBits = 4,
        Offsets = [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3],
        Rows = [1, 0, 2],
        FilterWords = [0x0C3FEDCBA9876543, 0x05A0123456789ABC, 0x0000F0F0F0F0F0F0],
    };

    // Table 1: bits 60..71, bucket = bits 68..71: row 2 in bucket 0, row 0 in 5, row 1 in 12; filter words = bits 0..59 (wrapped).
    private static SegmentMihTable WideTable1() => new()
    {
        Start = 60,
        Bits = 12,
        DirectBits = 4,
        Offsets = [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3],
        Rows = [2, 0, 1],
        FilterWords = [0x0F0F0F0F0F0F0F0F, 0x0123456789ABCDEF, 0x0EDCBA9876543210],
    };

    private static SegmentContents WideContents(IReadOnlyList<SegmentMihTable>? tables = null)
    {
        var codes = new PackedCodes(new CodeLayout(72), WideCodes.Length);
        foreach (ulong[] code in WideCodes)
        {
            codes.Add(code);
        }
        return new SegmentContents
        {
            Codes = codes,
            KeyKind = KeyKind.UInt64,
            Keys = GoldenKeys.Take(3).Select(SegmentTests.U64Key).ToList(),
            MihTables = tables ?? [WideTable0(), WideTable1()],
        };
    }

    [Fact]
    public void The_golden_filter_word_tables_are_what_the_index_layer_builds()
    {
        List<SegmentMihTable> built = BuildTables(WideContents().Codes.Block, MihLayout.Split(72, 6, maxDirectBits: 4), filterWords: true);
        foreach ((SegmentMihTable hand, SegmentMihTable b) in new[] { (WideTable0(), built[0]), (WideTable1(), built[5]) })
        {
            Assert.Equal((hand.Start, hand.Bits, hand.DirectBits), (b.Start, b.Bits, b.DirectBits));
            Assert.Equal(hand.Offsets, b.Offsets);
            Assert.Equal(hand.Rows, b.Rows);
            Assert.Equal(hand.FilterWords, b.FilterWords);
            Assert.Null(b.Codes);
        }
    }

    [Fact]
    public void Golden_bytes_of_a_wide_code_segment_with_filter_words()
    {
        MemoryFileSystem fs = Written(WideContents());
        byte[] bytes = fs.ReadAllBytes(SegmentPath);
        string hex = Convert.ToHexString(bytes).ToLowerInvariant();
        output.WriteLine(hex);
        SegmentMihTable t0 = WideTable0(), t1 = WideTable1();
        string expected = string.Concat(
            // header: magic, version 2, 72 bits, 3 rows, key kind 1, flags 0, dimension 0, reserved, CRC
            "4844425345474d54", "02000000", "48000000", "0300000000000000", "01000000", "00000000", "00000000", Zeros(24), "HEADERCRC",
            // codes at 64, two words each (the second holds bits 64..71), padded to 128
            Le64(0x0123456789ABCDEF, 0x5A, 0xFEDCBA9876543210, 0xC3, 0x0F0F0F0F0F0F0F0F, 0), Zeros(16),
            // MIH section at 128. Table 0: 17 offsets at 128 (padded to 256), 3 rows at 256 (padded to 320), 3 filter words at 320 (padded to 384)
            Le32(t0.Offsets), Zeros(60), Le32(1, 0, 2), Zeros(52), Le64(0x0C3FEDCBA9876543, 0x05A0123456789ABC, 0x0000F0F0F0F0F0F0), Zeros(40),
            // table 1: 17 offsets at 384 (padded to 512), 3 rows at 512 (padded to 576), 3 filter words at 576 (padded to 640)
            Le32(t1.Offsets), Zeros(60), Le32(2, 0, 1), Zeros(52), Le64(0x0F0F0F0F0F0F0F0F, 0x0123456789ABCDEF, 0x0EDCBA9876543210), Zeros(40),
            // key block at 640: CRC, 24 raw, 24 stored, raw encoding; three keys big-endian
            "KEYBLOCKCRC", "18000000", "18000000", "00000000", "0123456789abcdef", "13579bdf02468ace", "2f1e0d3c4b5a6978",
            // metadata at 680: code chunk CRC; key block offsets 640, 680; 2 MIH tables:
            "CODECRC", Le64(640, 680), "02000000",
            //   start 0, 12 bits, 4 direct, flags 2 (filter words), offsets at 128, rows at 256, filter words at 320
            Le32(0, 12, 4, 2), Le64(128, 256, 320),
            //   start 60, 12 bits, 4 direct, flags 2 (filter words), offsets at 384, rows at 512, filter words at 576
            Le32(60, 12, 4, 2), Le64(384, 512, 576),
            //   one MIH chunk CRC (the section 128..640)
            "MIHCRC",
            // footer at 788: codes 64, vectors 0, metadata 680, 108 bytes, metadata CRC, rows 3, 72 bits, kind 1, flags 0, dim 0, version 2, CRC
            Le64(64, 0, 680), "6c000000", "METADATACRC", "0300000000000000", "48000000", "01000000", "00000000", "00000000", "02000000", "FOOTERCRC");
        string Crc(int from, int to) => Convert.ToHexString(BitConverter.GetBytes(Crc32C.Compute(bytes.AsSpan(from, to - from)))).ToLowerInvariant();
        expected = expected.Replace("HEADERCRC", Crc(0, 60), StringComparison.Ordinal)
            .Replace("KEYBLOCKCRC", Crc(644, 680), StringComparison.Ordinal)
            .Replace("CODECRC", Crc(64, 112), StringComparison.Ordinal)
            .Replace("MIHCRC", Crc(128, 640), StringComparison.Ordinal)
            .Replace("METADATACRC", Crc(680, 788), StringComparison.Ordinal)
            .Replace("FOOTERCRC", Crc(788, 848), StringComparison.Ordinal);
        Assert.Equal(852, bytes.Length);
        Assert.Equal(expected, hex);

        using SegmentReader reader = SegmentReader.Open(fs, SegmentPath);
        SegmentTests.AssertReadsBack(WideContents(), reader);
        Assert.All(reader.MihTables, t => Assert.True(t.HasFilterWords && !t.HasInlineCodes && t.Codes.IsEmpty));
        Assert.Equal([320L, 576L], reader.MihTables.Select(t => FileOffsetOf(reader, t.FilterWords)));
    }

    [Fact]
    public void Every_single_bit_flip_of_a_wide_segment_with_filter_words_is_caught_at_open_or_lies_in_the_code_padding()
    {
        SegmentContents contents = WideContents();
        MemoryFileSystem fs = Written(contents);
        byte[] whole = fs.ReadAllBytes(SegmentPath);
        (int caught, int harmless) = SegmentTests.FlipEveryBitAndCut(fs, SegmentPath, whole, contents, at => Assert.InRange(at, 112, 127));
        output.WriteLine($"{caught} flips caught, {harmless} in the padding after the codes");
        Assert.Equal(8 * 16, harmless);
    }

    [Fact]
    public void Filter_word_flags_that_cannot_be_right_are_refused()
    {
        MemoryFileSystem fs = Written(WideContents());
        byte[] whole = fs.ReadAllBytes(SegmentPath);
        const int entry0 = 680 + 4 + 16 + 4; // after the code chunk CRC, two key block offsets and the table count
        foreach ((uint flags, string reason) in new[]
        {
            (3u, "MIH table 0 has flags 3: inline codes and filter words both, which exclude each other"),
            (1u, "MIH table 0 has inline codes, which 72-bit codes cannot"),
            (6u, "MIH table 0 has flags 6, which are unknown"),
            (0u, "MIH table 0 has no inline codes or filter words but a words array at 320"),
        })
        {
            byte[] bytes = whole.ToArray();
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(entry0 + 12), flags);
            Reseal(bytes);
            fs.Replace(SegmentPath, bytes);
            CorruptionException e = Assert.Throws<CorruptionException>(() => SegmentReader.Open(fs, SegmentPath).Dispose());
            Assert.Equal(reason, e.Reason);
            Assert.Equal(flags == 0 ? entry0 + 32L : entry0 + 12L, e.Offset);
        }

        // The writer refuses them too, before anything is written.
        var empty = new MemoryFileSystem();
        SegmentMihTable t0 = WideTable0();
        SegmentMihTable both = new() { Start = 0, Bits = 12, DirectBits = 4, Offsets = t0.Offsets, Rows = t0.Rows, FilterWords = t0.FilterWords, Codes = [1, 2, 3] };
        SegmentMihTable short0 = new() { Start = 0, Bits = 12, DirectBits = 4, Offsets = t0.Offsets, Rows = t0.Rows, FilterWords = [1, 2] };
        Assert.Contains("not both", Assert.Throws<ArgumentException>(() => SegmentWriter.Write(empty, Dir, Name, WideContents([both]))).Message, StringComparison.Ordinal);
        Assert.Contains("2 filter words; the segment has 3 rows", Assert.Throws<ArgumentException>(() => SegmentWriter.Write(empty, Dir, Name, WideContents([short0]))).Message, StringComparison.Ordinal);
        SegmentMihTable narrow = new() { Start = 0, Bits = 8, DirectBits = 4, Offsets = GoldenTable0().Offsets, Rows = GoldenTable0().Rows, FilterWords = [1, 2, 3, 4, 5] };
        Assert.Contains("filter words are for codes over 64 bits, not 16", Assert.Throws<ArgumentException>(() => SegmentWriter.Write(empty, Dir, Name, GoldenContents([narrow]))).Message, StringComparison.Ordinal);
        Assert.Empty(empty.ListFiles(Dir));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Wide_segments_with_and_without_filter_words_open_and_search_as_brute_force(bool filterWords)
    {
        // Without filter words the tables are stored exactly as before filter words existed (flags 0, no words array;
        // the golden bytes of table 0 above pin that layout), so such segments open and search unchanged.
        const int seed = 61, rows = 3000;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(256);
        SegmentContents plain = SegmentTests.Contents(seed, 256, rows, KeyKind.UInt64, payloads: false, dimension: 0);
        SegmentContents contents = WithTables(plain, SegmentTables.Build(plain.Codes.Block, minRows: 1, filterWords));
        MemoryFileSystem fs = Written(contents);
        using SegmentReader reader = SegmentReader.Open(fs, SegmentPath);
        Assert.All(reader.MihTables, t => Assert.Equal((filterWords, false), (t.HasFilterWords, t.HasInlineCodes)));
        MihIndex index = SegmentTables.Open(reader)!;
        Assert.All(index.Tables, t => Assert.Equal(filterWords ? MihPostingWords.FilterWords : MihPostingWords.None, t.PostingWords));
        for (int q = 0; q < 4; q++)
        {
            ulong[] query = q == 0 ? TestData.RandomCode(random, layout) : plain.Codes[random.Next(rows)].ToArray();
            query[0] ^= (ulong)q;
            foreach (int r in new[] { 0, 4, 40, 100, 128 })
            {
                Assert.Equal(TestData.OracleRadius(plain.Codes, query, r), index.Radius(query, r));
            }
            foreach (int k in new[] { 1, 10, rows + 1 })
            {
                Assert.Equal(TestData.OracleKnn(plain.Codes, query, k), index.Knn(query, k));
            }
        }
    }
}
