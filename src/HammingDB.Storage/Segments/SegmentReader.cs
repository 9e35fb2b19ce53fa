using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using HammingDB.Kernels;
using K4os.Compression.LZ4;

namespace HammingDB.Storage.Segments;

/// <summary>
/// An open segment file (format: <see cref="SegmentFormat"/>, versions 1 and 2), memory-mapped.
/// Opening checks the header, the footer, the metadata and (unless told not to) every code checksum,
/// so the kernels never scan a damaged code, and every checksum of the MIH tables (which may be left
/// to <see cref="VerifyMihTables"/>); key and payload blocks are checked when decoded. Thread-safe
/// for reads; the codes and the MIH tables stay valid until the reader is disposed.
/// </summary>
internal sealed unsafe class SegmentReader : IDisposable
{
    private readonly IStorageFile _file;
    private readonly MappedRegion _region;
    private readonly long[] _keyBlocks;
    private readonly long[]? _payloadBlocks;
    private readonly long _vectorsOffset;
    private readonly byte[] _codeChecksums;
    private readonly byte[] _vectorChecksums;
    private readonly long _mihOffset;
    private readonly long _mihBytes;
    private readonly byte[] _mihChecksums;
    private volatile bool _mihVerified;
    private volatile bool _disposed;
    private readonly int[] _keyBlockChecked;
    private readonly byte[]?[] _decodedKeyBlocks;
    private long _decodedKeyBytes;
    private volatile DecodedBlock? _lastKeyBlock;

    private SegmentReader(IStorageFile file, MappedRegion region, CodeLayout layout, int rows, KeyKind keyKind,
        int vectorDimension, VectorKind vectorKind, long vectorsOffset, long[] keyBlocks, long[]? payloadBlocks, byte[] codeChecksums, byte[] vectorChecksums,
        long mihOffset, long mihEnd, MihEntry[] mihEntries, byte[] mihChecksums)
    {
        _file = file;
        _region = region;
        Layout = layout;
        Rows = rows;
        KeyKind = keyKind;
        VectorDimension = vectorDimension;
        VectorKind = vectorKind;
        _vectorsOffset = vectorsOffset;
        _keyBlocks = keyBlocks;
        _payloadBlocks = payloadBlocks;
        _codeChecksums = codeChecksums;
        _vectorChecksums = vectorChecksums;
        _keyBlockChecked = new int[keyBlocks.Length - 1];
        _decodedKeyBlocks = new byte[keyBlocks.Length - 1][];
        _mihOffset = mihOffset;
        _mihBytes = mihEnd - mihOffset;
        _mihChecksums = mihChecksums;
        _mihVerified = _mihBytes == 0;
        var tables = new MappedMihTable[mihEntries.Length];
        for (int t = 0; t < tables.Length; t++)
        {
            MihEntry e = mihEntries[t];
            ReadOnlyMemory<ulong> words = e.WordsAt == 0 ? ReadOnlyMemory<ulong>.Empty : new MappedMemory<ulong>(this, region, e.WordsAt, rows).Memory;
            tables[t] = new MappedMihTable(e.Start, e.Bits, e.DirectBits, new MappedMemory<int>(this, region, e.OffsetsAt, (1 << e.DirectBits) + 1).Memory,
                new MappedMemory<int>(this, region, e.RowsAt, rows).Memory, words, e.Flags == SegmentFormat.MihFlagInlineCodes, e.Flags == SegmentFormat.MihFlagFilterWords);
        }
        MihTables = tables;
    }

    /// <summary>One MIH table's entry in the metadata, checked.</summary>
    private readonly record struct MihEntry(int Start, int Bits, int DirectBits, uint Flags, long OffsetsAt, long RowsAt, long WordsAt);

    public string Path => _file.Path;

    public CodeLayout Layout { get; }

    public int Rows { get; }

    public KeyKind KeyKind { get; }

    public bool HasPayloads => _payloadBlocks is not null;

    public int VectorDimension { get; }

    /// <summary>How the vectors are stored: float32, or int8 with a scale per row (flag 4).</summary>
    public VectorKind VectorKind { get; }

    // The bytes of the vector section before its padding.
    private long VectorSectionBytes => SegmentFormat.VectorBytes(Rows, VectorDimension, VectorKind);

    /// <summary>The file's size in bytes.</summary>
    public long FileBytes => _region.Length;

    /// <summary>The codes, in place in the mapping.</summary>
    public CodeBlock Codes => new((ulong*)(_region.Pointer + SegmentFormat.HeaderBytes), Rows, Layout);

    /// <summary>
    /// The MIH tables stored in the segment, their arrays in place in the mapping (empty for version 1
    /// and for segments written without tables). Use them only once <see cref="MihTablesVerified"/>.
    /// </summary>
    public IReadOnlyList<MappedMihTable> MihTables { get; }

    /// <summary>Whether every checksum of the MIH section has been verified (true when there is no section).</summary>
    public bool MihTablesVerified => _mihVerified;

    internal bool IsDisposed => _disposed;

    /// <summary>
    /// Opens and validates <paramref name="path"/>; <paramref name="verifyCodes"/> also checks every code checksum,
    /// <paramref name="verifyMihTables"/> every checksum of the MIH tables (else <see cref="VerifyMihTables"/> may do it later).
    /// </summary>
    /// <exception cref="CorruptionException">The file is not a whole, undamaged segment.</exception>
    public static SegmentReader Open(IFileSystem fileSystem, string path, bool verifyCodes = true, bool verifyMihTables = true)
    {
        IStorageFile file = fileSystem.Open(path, writable: false);
        MappedRegion? region = null;
        try
        {
            region = file.MapReadOnly();
            SegmentReader reader = Parse(file, region, path, verifyCodes);
            if (verifyMihTables)
            {
                reader.VerifyMihTables();
            }
            return reader;
        }
        catch
        {
            region?.Dispose();
            file.Dispose();
            throw;
        }
    }

    private static SegmentReader Parse(IStorageFile file, MappedRegion region, string path, bool verifyCodes)
    {
        long length = region.Length;
        if (length < SegmentFormat.HeaderBytes + SegmentFormat.FooterBytes)
        {
            throw new CorruptionException(path, length, $"{length} bytes cannot hold a segment's header and footer");
        }
        ReadOnlySpan<byte> header = region.Span(0, SegmentFormat.HeaderBytes);
        uint version = FileHeader.Check(header, SegmentFormat.HeaderBytes, SegmentFormat.Magic, SegmentFormat.OldestVersion, SegmentFormat.Version, "segment", path);
        long footerOffset = length - SegmentFormat.FooterBytes;
        ReadOnlySpan<byte> footer = region.Span(footerOffset, SegmentFormat.FooterBytes);
        if (BinaryPrimitives.ReadUInt32LittleEndian(footer[60..]) != Crc32C.Compute(footer[..60]))
        {
            throw new CorruptionException(path, footerOffset + 60, "the footer checksum does not match");
        }
        // footer 32..39 rows = header 16..23; 40..43 bits = 12..15; 44..55 key kind, flags, dimension = 24..35.
        Require(path, footerOffset + 32, footer.Slice(32, 8).SequenceEqual(header.Slice(16, 8))
            && footer.Slice(40, 4).SequenceEqual(header.Slice(12, 4))
            && footer.Slice(44, 12).SequenceEqual(header.Slice(24, 12))
            && BinaryPrimitives.ReadUInt32LittleEndian(footer[56..]) == version, "the header and the footer disagree");

        uint bits = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        ulong rowCount = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
        var keyKind = (KeyKind)BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(header[28..]);
        uint dimension = BinaryPrimitives.ReadUInt32LittleEndian(header[32..]);
        Require(path, 12, bits >= CodeLayout.MinCodeBits && bits <= CodeLayout.MaxCodeBits && bits % 8 == 0, $"{bits} is not a code width");
        Require(path, 24, Enum.IsDefined(keyKind), $"key kind {(uint)keyKind} is unknown");
        Require(path, 28, (flags & ~(SegmentFormat.FlagPayloads | SegmentFormat.FlagVectors | SegmentFormat.FlagInt8Vectors)) == 0
            && ((flags & SegmentFormat.FlagVectors) != 0) == (dimension > 0) && dimension <= 1 << 16
            && ((flags & SegmentFormat.FlagInt8Vectors) == 0 || (flags & SegmentFormat.FlagVectors) != 0), $"flags {flags} with dimension {dimension} are impossible");
        VectorKind vectorKind = (flags & SegmentFormat.FlagInt8Vectors) != 0 ? VectorKind.Int8 : VectorKind.Float32;
        var layout = new CodeLayout((int)bits);
        Require(path, 16, rowCount <= (ulong)(length / layout.StrideBytes) && rowCount <= int.MaxValue, $"{rowCount} rows cannot fit in {length} bytes");
        int rows = (int)rowCount;

        long codesOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(footer);
        long vectorsOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(footer[8..]);
        long metadataOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(footer[16..]);
        uint metadataBytes = BinaryPrimitives.ReadUInt32LittleEndian(footer[24..]);
        long codesEnd = codesOffset + (long)rows * layout.StrideBytes;
        long vectorBytes = SegmentFormat.VectorBytes(rows, (int)dimension, vectorKind);
        Require(path, footerOffset, codesOffset == SegmentFormat.HeaderBytes, "the codes do not start at 64");
        Require(path, footerOffset + 8, dimension == 0 ? vectorsOffset == 0 : vectorsOffset == SegmentFormat.Align64(codesEnd), "the vectors are not where the codes end");
        Require(path, footerOffset + 16, metadataOffset >= SegmentFormat.Align64(dimension == 0 ? codesEnd : vectorsOffset + vectorBytes)
            && metadataOffset + metadataBytes == footerOffset, "the metadata is not between the data and the footer");
        ReadOnlySpan<byte> metadata = region.Span(metadataOffset, (int)metadataBytes);
        Require(path, footerOffset + 28, BinaryPrimitives.ReadUInt32LittleEndian(footer[28..]) == Crc32C.Compute(metadata), "the metadata checksum does not match");

        int codeChunks = SegmentFormat.ChunkCount(codesEnd - codesOffset);
        int blocks = (rows + SegmentFormat.RowsPerBlock - 1) / SegmentFormat.RowsPerBlock;
        bool payloads = (flags & SegmentFormat.FlagPayloads) != 0;
        int vectorChunks = SegmentFormat.ChunkCount(vectorBytes);
        long mihPart = 4L * codeChunks + 8L * (blocks + 1) * (payloads ? 2 : 1) + 4L * vectorChunks; // where the MIH entries start (version 2)
        long dataEnd = SegmentFormat.Align64(dimension == 0 ? codesEnd : vectorsOffset + vectorBytes);
        MihEntry[] mihEntries = [];
        long mihEnd = dataEnd;
        byte[] mihChecksums = [];
        if (version == SegmentFormat.OldestVersion)
        {
            Require(path, footerOffset + 24, metadataBytes == mihPart, $"the metadata holds {metadataBytes} bytes; {mihPart} were expected");
        }
        else
        {
            (mihEntries, mihEnd, mihChecksums) = ParseMihTables(metadata, mihPart, path, metadataOffset, footerOffset, (int)bits, rows, dataEnd);
        }

        int at = 0;
        ReadOnlySpan<byte> codeChecksums = metadata.Slice(at, 4 * codeChunks);
        at += 4 * codeChunks;
        long[] keyBlocks = ReadOffsets(metadata.Slice(at, 8 * (blocks + 1)), mihEnd, path, metadataOffset + at);
        at += 8 * (blocks + 1);
        long[]? payloadBlocks = null;
        if (payloads)
        {
            payloadBlocks = ReadOffsets(metadata.Slice(at, 8 * (blocks + 1)), keyBlocks[^1], path, metadataOffset + at);
            at += 8 * (blocks + 1);
        }
        Require(path, metadataOffset, (payloadBlocks ?? keyBlocks)[^1] == metadataOffset, "the blocks do not end where the metadata starts");
        ReadOnlySpan<byte> vectorChecksums = metadata.Slice(at, 4 * vectorChunks);

        var reader = new SegmentReader(file, region, layout, rows, keyKind, (int)dimension, vectorKind, vectorsOffset, keyBlocks, payloadBlocks,
            codeChecksums.ToArray(), vectorChecksums.ToArray(), dataEnd, mihEnd, mihEntries, mihChecksums);
        if (verifyCodes)
        {
            reader.VerifyChecksums(e => throw e);
        }
        return reader;
    }

    // The MIH part of a version-2 metadata, from byte <paramref name="mihPart"/> (where the version-1 part ends): the table
    // count, the entries, the checksums. Every entry is checked against what the header says and against the one place its
    // arrays can be (each right after the one before it, 64-byte aligned, from <paramref name="sectionStart"/>), before
    // anything is read from the section or sized by it.
    private static (MihEntry[] Entries, long SectionEnd, byte[] Checksums) ParseMihTables(ReadOnlySpan<byte> metadata, long mihPart,
        string path, long metadataOffset, long footerOffset, int codeBits, int rows, long sectionStart)
    {
        Require(path, footerOffset + 24, metadata.Length >= mihPart + 4, $"the metadata holds {metadata.Length} bytes; at least {mihPart + 4} were expected");
        int at = (int)mihPart;
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(metadata[at..]);
        Require(path, metadataOffset + at, count <= (uint)codeBits, $"{count} MIH tables for {codeBits}-bit codes (at most one per bit)");
        long entriesEnd = at + 4L + (long)SegmentFormat.MihTableEntryBytes * count;
        Require(path, footerOffset + 24, metadata.Length >= entriesEnd, $"the metadata holds {metadata.Length} bytes; {count} MIH tables need at least {entriesEnd}");
        var entries = new MihEntry[count];
        long cursor = sectionStart;
        for (int t = 0; t < entries.Length; t++)
        {
            int entryAt = at + 4 + SegmentFormat.MihTableEntryBytes * t;
            long offset = metadataOffset + entryAt;
            ReadOnlySpan<byte> entry = metadata.Slice(entryAt, SegmentFormat.MihTableEntryBytes);
            uint start = BinaryPrimitives.ReadUInt32LittleEndian(entry);
            uint bits = BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]);
            uint directBits = BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]);
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(entry[12..]);
            ulong offsetsAt = BinaryPrimitives.ReadUInt64LittleEndian(entry[16..]);
            ulong rowsAt = BinaryPrimitives.ReadUInt64LittleEndian(entry[24..]);
            ulong codesAt = BinaryPrimitives.ReadUInt64LittleEndian(entry[32..]);
            string table = $"MIH table {t}";
            Require(path, offset + 4, bits >= 1 && bits <= SegmentFormat.MaxMihBits, $"{table} indexes a substring of {bits} bits (1..{SegmentFormat.MaxMihBits})");
            Require(path, offset, start <= (uint)codeBits - bits, $"{table} indexes bits {start}..{(ulong)start + bits - 1}, outside the {codeBits}-bit code");
            Require(path, offset + 8, directBits >= 1 && directBits <= Math.Min(bits, SegmentFormat.MaxMihDirectBits),
                $"{table} addresses {directBits} bits directly (1..{SegmentFormat.MaxMihDirectBits}, at most its {bits} bits)");
            Require(path, offset + 12, (flags & ~(SegmentFormat.MihFlagInlineCodes | SegmentFormat.MihFlagFilterWords)) == 0, $"{table} has flags {flags}, which are unknown");
            Require(path, offset + 12, flags != (SegmentFormat.MihFlagInlineCodes | SegmentFormat.MihFlagFilterWords), $"{table} has flags {flags}: inline codes and filter words both, which exclude each other");
            bool inline = flags == SegmentFormat.MihFlagInlineCodes;
            bool filters = flags == SegmentFormat.MihFlagFilterWords;
            Require(path, offset + 12, !inline || codeBits <= SegmentFormat.MaxMihBits, $"{table} has inline codes, which {codeBits}-bit codes cannot");
            Require(path, offset + 12, !filters || codeBits > SegmentFormat.MaxMihBits, $"{table} has filter words, which {codeBits}-bit codes (at most {SegmentFormat.MaxMihBits}) do not use");
            bool words = inline || filters;
            string what = inline ? "codes" : "filter words";
            var place = SegmentFormat.MihTablePlace(cursor, (int)directBits, rows, words);
            RequireArray(path, offset + 16, offsetsAt, 4L * ((1L << (int)directBits) + 1), place.Offsets, sectionStart, metadataOffset, $"the offsets array of {table}");
            RequireArray(path, offset + 24, rowsAt, 4L * rows, place.Rows, sectionStart, metadataOffset, $"the rows array of {table}");
            if (words)
            {
                RequireArray(path, offset + 32, codesAt, 8L * rows, place.Codes, sectionStart, metadataOffset, $"the {what} array of {table}");
            }
            else
            {
                Require(path, offset + 32, codesAt == 0, $"{table} has no inline codes or filter words but a words array at {codesAt}");
            }
            Require(path, offset + 16, place.End <= metadataOffset, $"{table} ends at {place.End}, past the metadata at {metadataOffset}");
            entries[t] = new MihEntry((int)start, (int)bits, (int)directBits, flags, place.Offsets, place.Rows, place.Codes);
            cursor = place.End;
        }
        int chunks = SegmentFormat.ChunkCount(cursor - sectionStart);
        long expected = entriesEnd + 4L * chunks;
        Require(path, footerOffset + 24, metadata.Length == expected, $"the metadata holds {metadata.Length} bytes; {expected} were expected");
        return (entries, cursor, metadata.Slice((int)entriesEnd, 4 * chunks).ToArray());
    }

    // An array's offset from the metadata: inside the MIH section (from its start to the metadata), and exactly where it must be.
    private static void RequireArray(string path, long entryOffset, ulong offset, long bytes, long expected, long sectionStart, long limit, string what)
    {
        Require(path, entryOffset, offset >= (ulong)sectionStart && offset <= (ulong)limit && (ulong)bytes <= (ulong)limit - offset,
            $"{what} at {offset} (+{bytes} bytes) lies outside the MIH section, which runs from {sectionStart} to at most the metadata at {limit}");
        Require(path, entryOffset, offset == (ulong)expected, $"{what} is at {offset}; following the array before it, 64-byte aligned, it must be at {expected}");
    }

    /// <summary>
    /// Checks every CRC-32C of the MIH section (each MiB, padding included); afterwards
    /// <see cref="MihTablesVerified"/> is true. Cheap when already done.
    /// </summary>
    /// <exception cref="CorruptionException">A MiB of the section is damaged: the exception names its offset.</exception>
    public void VerifyMihTables()
    {
        if (!_mihVerified)
        {
            VerifyMihChunks(e => throw e);
        }
    }

    private void VerifyMihChunks(Action<CorruptionException> report)
    {
        bool clean = true;
        VerifyChunks(_mihOffset, _mihBytes, _mihChecksums, "MIH tables", e =>
        {
            clean = false;
            report(e);
        });
        if (clean)
        {
            _mihVerified = true;
        }
    }

    /// <summary>Decoded key blocks are kept (up to this many bytes per segment) for the key fetches of searches.</summary>
    public const long KeyCacheBytes = 128L << 20;

    /// <summary>The encoded key of <paramref name="row"/>.</summary>
    public byte[] GetKey(int row)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Rows, nameof(row));
        (int, byte[]?) last = (-1, null);
        return KeyAt(row, ref last).ToArray();
    }

    // The key of a row in its decoded block: from the cache, the caller's last block, or decoded (and
    // cached while the budget lasts).
    private ReadOnlySpan<byte> KeyAt(int row, ref (int Index, byte[]? Raw) last)
    {
        int blockIndex = row / SegmentFormat.RowsPerBlock;
        int first = blockIndex * SegmentFormat.RowsPerBlock;
        long offset = _keyBlocks[blockIndex];
        byte[]? raw = Volatile.Read(ref _decodedKeyBlocks[blockIndex]) ?? (last.Index == blockIndex ? last.Raw : null);
        if (raw is null)
        {
            raw = SegmentFormat.DecodeBlock(_region.Span(offset, (int)(_keyBlocks[blockIndex + 1] - offset)), offset, Path);
            if (Interlocked.Add(ref _decodedKeyBytes, raw.Length) <= KeyCacheBytes)
            {
                Volatile.Write(ref _decodedKeyBlocks[blockIndex], raw);
            }
            else
            {
                Interlocked.Add(ref _decodedKeyBytes, -raw.Length);
            }
            last = (blockIndex, raw);
        }
        return KeyIn(raw, row - first, Math.Min(SegmentFormat.RowsPerBlock, Rows - first), offset);
    }

    /// <summary>Every key in row order, decoding each block once (rebuilds, verification).</summary>
    public IEnumerable<byte[]> AllKeys()
    {
        for (int first = 0; first < Rows; first += SegmentFormat.RowsPerBlock)
        {
            int count = Math.Min(SegmentFormat.RowsPerBlock, Rows - first);
            foreach (byte[] key in BlockKeys(first, count))
            {
                yield return key;
            }
        }
    }

    /// <summary>The keys of <paramref name="rows"/> (any order); each block they touch is decoded once and kept while the cache budget lasts.</summary>
    public byte[][] GetKeys(IReadOnlyList<int> rows)
    {
        var keys = new byte[rows.Count][];
        (int, byte[]?) last = (-1, null);
        for (int i = 0; i < rows.Count; i++)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)rows[i], (uint)Rows, nameof(rows));
            keys[i] = KeyAt(rows[i], ref last).ToArray();
        }
        return keys;
    }

    private byte[][] BlockKeys(int first, int count)
    {
        byte[] block = Block(_keyBlocks, first, out _);
        long offset = _keyBlocks[first / SegmentFormat.RowsPerBlock];
        var keys = new byte[count][];
        int fixedBytes = SegmentFormat.FixedKeyBytes(KeyKind);
        int at = 0;
        for (int i = 0; i < count; i++)
        {
            int length = fixedBytes;
            if (fixedBytes == 0)
            {
                Require(Path, offset, at + 2 <= block.Length, "a key block ends inside an entry");
                length = BinaryPrimitives.ReadUInt16LittleEndian(block.AsSpan(at));
                at += 2;
            }
            Require(Path, offset, at + length <= block.Length, "a key runs past its block");
            keys[i] = block.AsSpan(at, length).ToArray();
            at += length;
        }
        Require(Path, offset, at == block.Length, "a key block holds more than its rows");
        return keys;
    }

    /// <summary>The payload of <paramref name="row"/>.</summary>
    public byte[] GetPayload(int row)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Rows, nameof(row));
        int first = row / SegmentFormat.RowsPerBlock * SegmentFormat.RowsPerBlock;
        return BlockPayloads(first, Math.Min(SegmentFormat.RowsPerBlock, Rows - first))[row - first];
    }

    /// <summary>Every payload in row order, decoding each block once (export, verification).</summary>
    public IEnumerable<byte[]> AllPayloads()
    {
        for (int first = 0; first < Rows; first += SegmentFormat.RowsPerBlock)
        {
            foreach (byte[] payload in BlockPayloads(first, Math.Min(SegmentFormat.RowsPerBlock, Rows - first)))
            {
                yield return payload;
            }
        }
    }

    private byte[][] BlockPayloads(int first, int count)
    {
        long[] blocks = _payloadBlocks ?? throw new InvalidOperationException("This segment has no payloads.");
        byte[] block = Block(blocks, first, out _);
        long offset = blocks[first / SegmentFormat.RowsPerBlock];
        var payloads = new byte[count][];
        int at = 0;
        for (int i = 0; i < count; i++)
        {
            Require(Path, offset, at + 4 <= block.Length, "a payload block ends inside an entry");
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(at));
            Require(Path, offset, length <= (uint)(block.Length - at - 4), "a payload runs past its block");
            payloads[i] = block.AsSpan(at + 4, (int)length).ToArray();
            at += 4 + (int)length;
        }
        Require(Path, offset, at == block.Length, "a payload block holds more than its rows");
        return payloads;
    }

    /// <summary>The stored vector of <paramref name="row"/> as floats (dequantized when stored as int8), in a new array.</summary>
    public float[] GetVector(int row)
    {
        var vector = new float[VectorDimension];
        ReadVector(row, vector);
        return vector;
    }

    /// <summary>
    /// Copies the stored vector of <paramref name="row"/> into <paramref name="destination"/> (<see cref="VectorDimension"/>
    /// floats): float32 as stored, int8 dequantized (<see cref="Int8Vectors.Dequantize"/>). Reads the mapping in place.
    /// </summary>
    public void ReadVector(int row, Span<float> destination)
    {
        if (VectorDimension == 0)
        {
            throw new InvalidOperationException("This segment has no vectors.");
        }
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Rows, nameof(row));
        if (destination.Length != VectorDimension)
        {
            throw new ArgumentException($"A vector of this segment has {VectorDimension} values; the destination holds {destination.Length}.", nameof(destination));
        }
        if (VectorKind == VectorKind.Int8)
        {
            Int8Vectors.Dequantize(Int8Row(row), destination);
        }
        else
        {
            MemoryMarshal.Cast<byte, float>(_region.Span(_vectorsOffset + (long)row * VectorDimension * sizeof(float), VectorDimension * sizeof(float))).CopyTo(destination);
        }
    }

    /// <summary>The stored bytes of <paramref name="row"/>'s int8 vector (scale, then the values), in place in the mapping.</summary>
    public ReadOnlySpan<byte> Int8Row(int row)
    {
        if (VectorDimension == 0 || VectorKind != VectorKind.Int8)
        {
            throw new InvalidOperationException("This segment has no int8 vectors.");
        }
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Rows, nameof(row));
        int stride = Int8Vectors.RowBytes(VectorDimension);
        return _region.Span(_vectorsOffset + (long)row * stride, stride);
    }

    /// <summary>Checks every block of keys and payloads (the codes were checked at open); throws at the first damage.</summary>
    /// <exception cref="CorruptionException">A block is damaged, or the keys are not strictly ascending.</exception>
    public void VerifyBlocks() => Verify(e => throw e, checksums: false);

    /// <summary>
    /// Checks everything <see cref="Open"/> leaves unchecked, reporting each damage found and going on
    /// (what <c>check</c> runs): with <paramref name="checksums"/> every code, vector and MIH checksum
    /// (each MiB on its own; the MIH section's padding is under its checksums) and the zero padding
    /// after codes and vectors; then every key block and payload
    /// block, that keys ascend strictly across the segment, and each key against
    /// <paramref name="keyProblem"/> (what is wrong with a key, or null).
    /// </summary>
    public void Verify(Action<CorruptionException> report, bool checksums = true, Func<ReadOnlySpan<byte>, string?>? keyProblem = null)
    {
        if (checksums)
        {
            VerifyChecksums(report);
            long codesEnd = SegmentFormat.HeaderBytes + (long)Rows * Layout.StrideBytes;
            VerifyZeros(codesEnd, SegmentFormat.Align64(codesEnd), "the padding after the codes", report);
            if (VectorDimension > 0)
            {
                long vectorsEnd = _vectorsOffset + VectorSectionBytes;
                VerifyZeros(vectorsEnd, SegmentFormat.Align64(vectorsEnd), "the padding after the vectors", report);
            }
            VerifyMihChunks(report);
        }
        byte[]? previous = null;
        for (int block = 0; block < _keyBlocks.Length - 1; block++)
        {
            int first = block * SegmentFormat.RowsPerBlock;
            int count = Math.Min(SegmentFormat.RowsPerBlock, Rows - first);
            long offset = _keyBlocks[block];
            byte[][]? keys = null;
            try
            {
                keys = BlockKeys(first, count);
            }
            catch (CorruptionException e)
            {
                report(e);
            }
            if (keys is null)
            {
                previous = null; // order is checked again from the next readable block on
            }
            else
            {
                for (int i = 0; i < keys.Length; i++)
                {
                    if (previous is not null && previous.AsSpan().SequenceCompareTo(keys[i]) >= 0)
                    {
                        report(new CorruptionException(Path, offset, $"the key of row {first + i} does not follow the key before it (keys must ascend strictly)"));
                    }
                    if (keyProblem?.Invoke(keys[i]) is { } problem)
                    {
                        report(new CorruptionException(Path, offset, $"the key of row {first + i} {problem}"));
                    }
                    previous = keys[i];
                }
            }
            if (_payloadBlocks is not null)
            {
                try
                {
                    BlockPayloads(first, count);
                }
                catch (CorruptionException e)
                {
                    report(e);
                }
            }
        }
    }

    /// <summary>The keys of block <paramref name="block"/> (rows from block x 4096), decoded once.</summary>
    /// <exception cref="CorruptionException">The block is damaged.</exception>
    public byte[][] KeysOfBlock(int block)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)block, (uint)(_keyBlocks.Length - 1), nameof(block));
        int first = block * SegmentFormat.RowsPerBlock;
        return BlockKeys(first, Math.Min(SegmentFormat.RowsPerBlock, Rows - first));
    }

    /// <summary>
    /// Whether the key stored at <paramref name="row"/> is <paramref name="key"/> (what lookups through
    /// the key index verify). Made cheap for one key at a time: a block's checksum is verified the first
    /// time only (the mapping is read-only, as for the codes checked at open); a raw block is read in
    /// place; an LZ4 block of fixed-width keys is decoded only up to the row; and when two lookups in a
    /// row fall in one block (updates in key order), it is decoded whole and kept for the next ones.
    /// </summary>
    /// <exception cref="CorruptionException">The block is damaged.</exception>
    public bool KeyEquals(int row, ReadOnlySpan<byte> key)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Rows, nameof(row));
        int blockIndex = row / SegmentFormat.RowsPerBlock;
        int index = row - blockIndex * SegmentFormat.RowsPerBlock;
        int rowsInBlock = Math.Min(SegmentFormat.RowsPerBlock, Rows - blockIndex * SegmentFormat.RowsPerBlock);
        long offset = _keyBlocks[blockIndex];
        if (Volatile.Read(ref _decodedKeyBlocks[blockIndex]) is { } cached)
        {
            return KeyIn(cached, index, rowsInBlock, offset).SequenceEqual(key);
        }
        if (_lastKeyBlock is { } last && last.Index == blockIndex)
        {
            return KeyIn(last.Raw, index, rowsInBlock, offset).SequenceEqual(key);
        }
        ReadOnlySpan<byte> block = _region.Span(offset, (int)(_keyBlocks[blockIndex + 1] - offset));
        if (Volatile.Read(ref _keyBlockChecked[blockIndex]) == 0)
        {
            SegmentFormat.CheckBlock(block, offset, Path);
            Volatile.Write(ref _keyBlockChecked[blockIndex], 1);
        }
        int rawBytes = BinaryPrimitives.ReadInt32LittleEndian(block[4..]);
        ReadOnlySpan<byte> stored = block[SegmentFormat.BlockHeaderBytes..];
        if (block[12] == 0 && rawBytes == stored.Length)
        {
            return KeyIn(stored, index, rowsInBlock, offset).SequenceEqual(key);
        }
        // The whole block is decoded, as every other reader of keys does: a partial LZ4 decode up to the key was
        // quicker, but on a crafted block (checksums recomputed) it could disagree with the whole decode (found by fuzzing).
        // Kept for the next lookup: lookups come in runs within a block (a compaction's moves, ascending gets).
        byte[] raw = SegmentFormat.DecodeBlock(block, offset, Path, checkedBefore: true);
        _lastKeyBlock = new DecodedBlock(blockIndex, raw);
        return KeyIn(raw, index, rowsInBlock, offset).SequenceEqual(key);
    }

    // The key at <paramref name="index"/> of a decoded key block of <paramref name="rows"/> rows.
    private ReadOnlySpan<byte> KeyIn(ReadOnlySpan<byte> block, int index, int rows, long offset)
    {
        int fixedBytes = SegmentFormat.FixedKeyBytes(KeyKind);
        if (fixedBytes > 0)
        {
            Require(Path, offset, block.Length == fixedBytes * rows, "a key block does not hold its rows' keys");
            return block.Slice(index * fixedBytes, fixedBytes);
        }
        int at = 0;
        for (int i = 0; ; i++)
        {
            Require(Path, offset, at + 2 <= block.Length, "a key block ends inside an entry");
            int length = BinaryPrimitives.ReadUInt16LittleEndian(block[at..]);
            at += 2;
            Require(Path, offset, at + length <= block.Length, "a key runs past its block");
            if (i == index)
            {
                return block.Slice(at, length);
            }
            at += length;
        }
    }

    /// <summary>A decoded block (never changed once made, so readers on any thread may share it).</summary>
    private sealed record DecodedBlock(int Index, byte[] Raw);

    public void Dispose()
    {
        _disposed = true;
        _region.Dispose();
        _file.Dispose();
    }

    private byte[] Block(long[] blocks, int row, out int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Rows, nameof(row));
        int block = row / SegmentFormat.RowsPerBlock;
        index = row % SegmentFormat.RowsPerBlock;
        long start = blocks[block];
        return SegmentFormat.DecodeBlock(_region.Span(start, (int)(blocks[block + 1] - start)), start, Path);
    }

    private static long[] ReadOffsets(ReadOnlySpan<byte> bytes, long first, string path, long at)
    {
        var offsets = new long[bytes.Length / 8];
        for (int i = 0; i < offsets.Length; i++)
        {
            offsets[i] = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes[(8 * i)..]);
            long previous = i == 0 ? first : offsets[i - 1] + SegmentFormat.BlockHeaderBytes;
            Require(path, at + 8 * i, i == 0 ? offsets[0] == first : offsets[i] >= previous && offsets[i] - offsets[i - 1] <= int.MaxValue,
                "the block offsets are out of order");
        }
        return offsets;
    }

    // Every code and vector checksum, each MiB on its own.
    private void VerifyChecksums(Action<CorruptionException> report)
    {
        VerifyChunks(SegmentFormat.HeaderBytes, (long)Rows * Layout.StrideBytes, _codeChecksums, "codes", report);
        if (VectorDimension > 0)
        {
            VerifyChunks(_vectorsOffset, VectorSectionBytes, _vectorChecksums, "vectors", report);
        }
    }

    private void VerifyChunks(long offset, long length, ReadOnlySpan<byte> checksums, string what, Action<CorruptionException> report)
    {
        for (int chunk = 0; chunk * (long)SegmentFormat.ChecksumChunkBytes < length; chunk++)
        {
            long start = offset + chunk * (long)SegmentFormat.ChecksumChunkBytes;
            int size = (int)Math.Min(SegmentFormat.ChecksumChunkBytes, offset + length - start);
            if (Crc32C.Compute(_region.Span(start, size)) != BinaryPrimitives.ReadUInt32LittleEndian(checksums[(4 * chunk)..]))
            {
                report(new CorruptionException(Path, start, $"the checksum of the MiB of {what} at {start} does not match"));
            }
        }
    }

    private void VerifyZeros(long start, long end, string what, Action<CorruptionException> report)
    {
        ReadOnlySpan<byte> bytes = _region.Span(start, (int)(end - start));
        int at = bytes.IndexOfAnyExcept((byte)0);
        if (at >= 0)
        {
            report(new CorruptionException(Path, start + at, $"{what} is not zero"));
        }
    }

    private static void Require(string path, long offset, bool condition, string reason)
    {
        if (!condition)
        {
            throw new CorruptionException(path, offset, reason);
        }
    }
}
