using System.Buffers.Binary;
using System.Runtime.InteropServices;
using HammingDB.Kernels;

namespace HammingDB.Storage.Segments;

/// <summary>What goes into one segment. Keys are encoded (see <see cref="KeyKind"/>), strictly ascending, one per row.</summary>
internal sealed class SegmentContents
{
    public required PackedCodes Codes { get; init; }

    public required KeyKind KeyKind { get; init; }

    public required IReadOnlyList<byte[]> Keys { get; init; }

    /// <summary>One payload per row, or null for a collection without payloads.</summary>
    public IReadOnlyList<byte[]>? Payloads { get; init; }

    /// <summary>rows x <see cref="VectorDimension"/> floats, or empty (always empty when <see cref="Int8Rows"/> is given).</summary>
    public float[] Vectors { get; init; } = [];

    public int VectorDimension { get; init; }

    /// <summary>How the segment stores the vectors: float32 as given, or int8 quantized (<see cref="Int8Vectors"/>) from <see cref="Vectors"/>.</summary>
    public VectorKind VectorKind { get; init; } = VectorKind.Float32;

    /// <summary>
    /// For <see cref="VectorKind.Int8"/>: the rows already quantized (rows x <see cref="Int8Vectors.RowBytes"/> bytes, as stored),
    /// which compaction copies from its inputs so that quantizing never runs twice on a vector; null to quantize <see cref="Vectors"/>.
    /// </summary>
    public byte[]? Int8Rows { get; init; }

    /// <summary>The MIH tables to store with the codes (built by the Index layer), or none.</summary>
    public IReadOnlyList<SegmentMihTable> MihTables { get; init; } = [];
}

/// <summary>
/// One MIH substring table as written into a segment (built by the Index layer). Storage keeps its
/// arrays and checks their shape, not what they mean: see <see cref="SegmentFormat"/>.
/// </summary>
internal sealed class SegmentMihTable
{
    /// <summary>The first bit of the substring.</summary>
    public required int Start { get; init; }

    /// <summary>The substring width, 1..64.</summary>
    public required int Bits { get; init; }

    /// <summary>The top bits of the substring addressed directly, 1..24 and at most <see cref="Bits"/>.</summary>
    public required int DirectBits { get; init; }

    /// <summary>2^<see cref="DirectBits"/> + 1 entries, non-decreasing, the first 0, the last the segment's row count.</summary>
    public required int[] Offsets { get; init; }

    /// <summary>The row of each posting (one per row of the segment), each in [0, rows).</summary>
    public required int[] Rows { get; init; }

    /// <summary>The code of each posting (codes of at most 64 bits only), or null.</summary>
    public ulong[]? Codes { get; init; }

    /// <summary>The filter word of each posting (codes over 64 bits only; never with <see cref="Codes"/>), or null: see <see cref="SegmentFormat"/>.</summary>
    public ulong[]? FilterWords { get; init; }

    /// <summary>The table's per-posting words (<see cref="Codes"/> or <see cref="FilterWords"/>), or null.</summary>
    internal ulong[]? Words => Codes ?? FilterWords;

    /// <summary>The table's flags in the segment metadata.</summary>
    internal uint Flags => (Codes is null ? 0 : SegmentFormat.MihFlagInlineCodes) | (FilterWords is null ? 0 : SegmentFormat.MihFlagFilterWords);
}

/// <summary>Writes segment files (format: <see cref="SegmentFormat"/>).</summary>
internal static class SegmentWriter
{
    /// <summary>
    /// Writes <paramref name="contents"/> as <paramref name="fileName"/> in <paramref name="directory"/>:
    /// under a temporary name, synced, renamed, directory synced. Returns the file's size.
    /// </summary>
    public static long Write(IFileSystem fileSystem, string directory, string fileName, SegmentContents contents)
    {
        Validate(contents);
        long size = 0;
        DurableFile.Replace(fileSystem, directory, fileName, KillPoints.Segment, file =>
        {
            var output = new Output(file);
            WriteAll(output, contents);
            output.Flush();
            size = output.Position;
        });
        return size;
    }

    private static void WriteAll(Output output, SegmentContents contents)
    {
        CodeLayout layout = contents.Codes.Layout;
        long rows = contents.Codes.Count;
        bool int8 = contents.VectorDimension > 0 && contents.VectorKind == VectorKind.Int8;
        uint flags = (contents.Payloads is null ? 0 : SegmentFormat.FlagPayloads) | (contents.VectorDimension > 0 ? SegmentFormat.FlagVectors : 0)
            | (int8 ? SegmentFormat.FlagInt8Vectors : 0);

        Span<byte> header = stackalloc byte[SegmentFormat.HeaderBytes];
        FileHeader.Begin(header, SegmentFormat.Magic, SegmentFormat.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)layout.CodeBits);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], (ulong)rows);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], (uint)contents.KeyKind);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header[32..], (uint)contents.VectorDimension);
        FileHeader.Seal(header);
        output.Write(header);

        var metadata = new List<byte>();
        ReadOnlySpan<byte> codeBytes = MemoryMarshal.AsBytes((ReadOnlySpan<ulong>)contents.Codes.Words);
        long codesOffset = output.Position;
        output.Write(codeBytes);
        output.PadTo64();
        AppendChunkChecksums(metadata, codeBytes);

        long vectorsOffset = 0;
        ReadOnlySpan<byte> vectorBytes = !int8 ? MemoryMarshal.AsBytes(contents.Vectors.AsSpan())
            : contents.Int8Rows ?? Int8Vectors.QuantizeAll(contents.Vectors, contents.VectorDimension);
        if (contents.VectorDimension > 0)
        {
            vectorsOffset = output.Position;
            output.Write(vectorBytes);
            output.PadTo64();
        }

        // The MIH section: every array 64-byte aligned, summed per MiB (padding included) as it is written.
        var mihEntries = new List<byte>();
        var mihChecksums = new ChunkChecksums();
        Span<byte> entry = stackalloc byte[SegmentFormat.MihTableEntryBytes];
        output.Tap = mihChecksums;
        foreach (SegmentMihTable table in contents.MihTables)
        {
            (long offsetsAt, long rowsAt, long codesAt, long end) = SegmentFormat.MihTablePlace(output.Position, table.DirectBits, rows, table.Words is not null);
            BinaryPrimitives.WriteUInt32LittleEndian(entry, (uint)table.Start);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], (uint)table.Bits);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], (uint)table.DirectBits);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[12..], table.Flags);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[16..], (ulong)offsetsAt);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[24..], (ulong)rowsAt);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[32..], (ulong)codesAt);
            mihEntries.AddRange(entry);
            output.Write(MemoryMarshal.AsBytes(table.Offsets.AsSpan()));
            output.PadTo64();
            output.Write(MemoryMarshal.AsBytes(table.Rows.AsSpan()));
            output.PadTo64();
            if (table.Words is { } words)
            {
                output.Write(MemoryMarshal.AsBytes(words.AsSpan()));
                output.PadTo64();
            }
            if (output.Position != end)
            {
                throw new InvalidOperationException($"MIH table written to {output.Position}, placed to end at {end}."); // a bug here, not bad input
            }
        }
        output.Tap = null;

        AppendOffsets(metadata, WriteBlocks(output, rows, (row, raw) => AppendKey(raw, contents.KeyKind, contents.Keys[row])));
        if (contents.Payloads is { } payloads)
        {
            AppendOffsets(metadata, WriteBlocks(output, rows, (row, raw) =>
            {
                Span<byte> length = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)payloads[row].Length);
                raw.AddRange(length);
                raw.AddRange(payloads[row]);
            }));
        }
        if (contents.VectorDimension > 0)
        {
            AppendChunkChecksums(metadata, vectorBytes);
        }
        Span<byte> count = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(count, (uint)contents.MihTables.Count);
        metadata.AddRange(count);
        metadata.AddRange(mihEntries);
        metadata.AddRange(mihChecksums.Finish());

        long metadataOffset = output.Position;
        byte[] metadataBytes = metadata.ToArray();
        output.Write(metadataBytes);

        Span<byte> footer = stackalloc byte[SegmentFormat.FooterBytes];
        footer.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(footer, (ulong)codesOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[8..], (ulong)vectorsOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[16..], (ulong)metadataOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[24..], (uint)metadataBytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[28..], Crc32C.Compute(metadataBytes));
        BinaryPrimitives.WriteUInt64LittleEndian(footer[32..], (ulong)rows);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[40..], (uint)layout.CodeBits);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[44..], (uint)contents.KeyKind);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[48..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[52..], (uint)contents.VectorDimension);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[56..], SegmentFormat.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[60..], Crc32C.Compute(footer[..60]));
        output.Write(footer);
    }

    // Writes one block per RowsPerBlock rows; returns the offset of every block and of the end.
    private static List<long> WriteBlocks(Output output, long rows, Action<int, List<byte>> appendRow)
    {
        var offsets = new List<long>();
        var raw = new List<byte>();
        for (long first = 0; first < rows; first += SegmentFormat.RowsPerBlock)
        {
            raw.Clear();
            long end = Math.Min(rows, first + SegmentFormat.RowsPerBlock);
            for (long row = first; row < end; row++)
            {
                appendRow((int)row, raw);
            }
            byte[] block = new byte[SegmentFormat.MaxBlockBytes(raw.Count)];
            int size = SegmentFormat.EncodeBlock(CollectionsMarshal.AsSpan(raw), block);
            offsets.Add(output.Position);
            output.Write(block.AsSpan(0, size));
        }
        offsets.Add(output.Position);
        return offsets;
    }

    private static void AppendKey(List<byte> raw, KeyKind kind, byte[] key)
    {
        if (kind == KeyKind.String)
        {
            raw.Add((byte)key.Length);
            raw.Add((byte)(key.Length >> 8));
        }
        raw.AddRange(key);
    }

    private static void AppendChunkChecksums(List<byte> metadata, ReadOnlySpan<byte> section)
    {
        Span<byte> value = stackalloc byte[4];
        for (long at = 0; at < section.Length; at += SegmentFormat.ChecksumChunkBytes)
        {
            int length = (int)Math.Min(SegmentFormat.ChecksumChunkBytes, section.Length - at);
            BinaryPrimitives.WriteUInt32LittleEndian(value, Crc32C.Compute(section.Slice((int)at, length)));
            metadata.AddRange(value);
        }
    }

    private static void AppendOffsets(List<byte> metadata, List<long> offsets)
    {
        Span<byte> value = stackalloc byte[8];
        foreach (long offset in offsets)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(value, (ulong)offset);
            metadata.AddRange(value);
        }
    }

    private static void Validate(SegmentContents contents)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Segments are written on little-endian machines only.");
        }
        int rows = contents.Codes.Count;
        if (contents.Keys.Count != rows || (contents.Payloads is { } p && p.Count != rows))
        {
            throw new ArgumentException($"A segment of {rows} rows needs {rows} keys and payloads; got {contents.Keys.Count} and {contents.Payloads?.Count}.", nameof(contents));
        }
        if (!Enum.IsDefined(contents.VectorKind))
        {
            throw new ArgumentException($"Vector storage {contents.VectorKind} is unknown.", nameof(contents));
        }
        if (contents.Int8Rows is { } int8Rows)
        {
            if (contents.VectorKind != VectorKind.Int8 || contents.VectorDimension <= 0 || contents.Vectors.Length != 0
                || int8Rows.Length != SegmentFormat.VectorBytes(rows, contents.VectorDimension, VectorKind.Int8))
            {
                throw new ArgumentException($"{rows} quantized rows of dimension {contents.VectorDimension} need {SegmentFormat.VectorBytes(rows, contents.VectorDimension, VectorKind.Int8)} bytes " +
                    $"(and int8 storage, and no float vectors); got {int8Rows.Length}.", nameof(contents));
            }
        }
        else if (contents.VectorDimension < 0 || contents.Vectors.Length != (long)rows * contents.VectorDimension)
        {
            throw new ArgumentException($"{rows} rows of dimension {contents.VectorDimension} need {(long)rows * contents.VectorDimension} floats; got {contents.Vectors.Length}.", nameof(contents));
        }
        ValidateMihTables(contents.MihTables, contents.Codes.Layout.CodeBits, rows);
        int fixedBytes = SegmentFormat.FixedKeyBytes(contents.KeyKind);
        for (int row = 0; row < rows; row++)
        {
            byte[] key = contents.Keys[row];
            if (fixedBytes > 0 ? key.Length != fixedBytes : key.Length > SegmentFormat.MaxStringKeyBytes)
            {
                throw new ArgumentException($"Key {row} has {key.Length} bytes, which a {contents.KeyKind} key cannot.", nameof(contents));
            }
            if (row > 0 && contents.Keys[row - 1].AsSpan().SequenceCompareTo(key) >= 0)
            {
                throw new ArgumentException($"Keys must ascend strictly; key {row} does not follow key {row - 1}.", nameof(contents));
            }
        }
    }

    // The rules SegmentReader enforces on the metadata, plus what only the writer can afford to check (O(rows)).
    private static void ValidateMihTables(IReadOnlyList<SegmentMihTable> tables, int codeBits, int rows)
    {
        ArgumentNullException.ThrowIfNull(tables);
        if (tables.Count > codeBits)
        {
            throw new ArgumentException($"{tables.Count} MIH tables for {codeBits}-bit codes; at most one per bit.", nameof(tables));
        }
        for (int t = 0; t < tables.Count; t++)
        {
            SegmentMihTable table = tables[t] ?? throw new ArgumentException($"MIH table {t} is null.", nameof(tables));
            string Bad(string what) => $"MIH table {t} (start {table.Start}, {table.Bits} bits, {table.DirectBits} direct): {what}.";
            if (table.Bits is < 1 or > SegmentFormat.MaxMihBits)
            {
                throw new ArgumentException(Bad($"a substring width must be 1..{SegmentFormat.MaxMihBits}"), nameof(tables));
            }
            if (table.Start < 0 || table.Start > codeBits - table.Bits)
            {
                throw new ArgumentException(Bad($"the substring runs outside the {codeBits}-bit code"), nameof(tables));
            }
            if (table.DirectBits < 1 || table.DirectBits > Math.Min(table.Bits, SegmentFormat.MaxMihDirectBits))
            {
                throw new ArgumentException(Bad($"direct bits must be 1..{SegmentFormat.MaxMihDirectBits} and at most the substring width"), nameof(tables));
            }
            int[] offsets = table.Offsets ?? throw new ArgumentException(Bad("no offsets"), nameof(tables));
            int[] postings = table.Rows ?? throw new ArgumentException(Bad("no rows"), nameof(tables));
            if (offsets.Length != (1 << table.DirectBits) + 1)
            {
                throw new ArgumentException(Bad($"{offsets.Length} offsets; 2^{table.DirectBits} + 1 = {(1 << table.DirectBits) + 1} are needed"), nameof(tables));
            }
            if (offsets[0] != 0 || offsets[^1] != rows)
            {
                throw new ArgumentException(Bad($"the offsets run from {offsets[0]} to {offsets[^1]}; they must run from 0 to the {rows} rows"), nameof(tables));
            }
            for (int b = 1; b < offsets.Length; b++)
            {
                if (offsets[b] < offsets[b - 1])
                {
                    throw new ArgumentException(Bad($"offset {b} ({offsets[b]}) is below offset {b - 1} ({offsets[b - 1]})"), nameof(tables));
                }
            }
            if (postings.Length != rows)
            {
                throw new ArgumentException(Bad($"{postings.Length} postings; the segment has {rows} rows"), nameof(tables));
            }
            for (int i = 0; i < postings.Length; i++)
            {
                if ((uint)postings[i] >= (uint)rows)
                {
                    throw new ArgumentException(Bad($"posting {i} names row {postings[i]}, outside [0, {rows})"), nameof(tables));
                }
            }
            if (table.Codes is not null && table.FilterWords is not null)
            {
                throw new ArgumentException(Bad("a table carries inline codes or filter words, not both"), nameof(tables));
            }
            if (table.Codes is { } inline)
            {
                if (codeBits > SegmentFormat.MaxMihBits)
                {
                    throw new ArgumentException(Bad($"inline codes are for codes of at most {SegmentFormat.MaxMihBits} bits, not {codeBits}"), nameof(tables));
                }
                if (inline.Length != rows)
                {
                    throw new ArgumentException(Bad($"{inline.Length} inline codes; the segment has {rows} rows"), nameof(tables));
                }
            }
            if (table.FilterWords is { } filters)
            {
                if (codeBits <= SegmentFormat.MaxMihBits)
                {
                    throw new ArgumentException(Bad($"filter words are for codes over {SegmentFormat.MaxMihBits} bits, not {codeBits}"), nameof(tables));
                }
                if (filters.Length != rows)
                {
                    throw new ArgumentException(Bad($"{filters.Length} filter words; the segment has {rows} rows"), nameof(tables));
                }
            }
        }
    }

    // CRC-32C per MiB of a section, fed its bytes in order.
    private sealed class ChunkChecksums
    {
        private readonly List<byte> _done = [];
        private uint _crc;
        private int _inChunk;

        public void Add(ReadOnlySpan<byte> data)
        {
            while (!data.IsEmpty)
            {
                int n = Math.Min(data.Length, SegmentFormat.ChecksumChunkBytes - _inChunk);
                _crc = Crc32C.Append(_crc, data[..n]);
                _inChunk += n;
                data = data[n..];
                if (_inChunk == SegmentFormat.ChecksumChunkBytes)
                {
                    Close();
                }
            }
        }

        // The checksums, the last (partial) chunk included.
        public List<byte> Finish()
        {
            if (_inChunk > 0)
            {
                Close();
            }
            return _done;
        }

        private void Close()
        {
            Span<byte> value = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(value, _crc);
            _done.AddRange(value);
            _crc = 0;
            _inChunk = 0;
        }
    }

    // Sequential writes through a buffer; Position counts every byte written; Tap, when set, sees every byte.
    private sealed class Output(IStorageFile file)
    {
        private readonly byte[] _buffer = new byte[1 << 20];
        private int _used;
        private long _flushed;

        public long Position => _flushed + _used;

        public ChunkChecksums? Tap { get; set; }

        public void Write(ReadOnlySpan<byte> data)
        {
            Tap?.Add(data);
            while (!data.IsEmpty)
            {
                int n = Math.Min(data.Length, _buffer.Length - _used);
                data[..n].CopyTo(_buffer.AsSpan(_used));
                _used += n;
                data = data[n..];
                if (_used == _buffer.Length)
                {
                    Flush();
                }
            }
        }

        public void PadTo64()
        {
            Span<byte> zeros = stackalloc byte[64];
            zeros.Clear();
            Write(zeros[..(int)(SegmentFormat.Align64(Position) - Position)]);
        }

        public void Flush()
        {
            file.Write(_flushed, _buffer.AsSpan(0, _used));
            _flushed += _used;
            _used = 0;
        }
    }
}
