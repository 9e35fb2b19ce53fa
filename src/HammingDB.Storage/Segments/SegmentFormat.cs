using System.Buffers.Binary;
using K4os.Compression.LZ4;

namespace HammingDB.Storage.Segments;

/// <summary>How a segment's keys are encoded: order-preserving bytes, so byte order is key order.</summary>
internal enum KeyKind : uint
{
    /// <summary>8 bytes, big-endian.</summary>
    UInt64 = 1,

    /// <summary>UTF-8, any length.</summary>
    String = 2,

    /// <summary>16 bytes.</summary>
    Guid = 3,
}

/// <summary>How a segment stores its rows' vectors.</summary>
internal enum VectorKind : uint
{
    /// <summary>dimension x float32 per row.</summary>
    Float32 = 0,

    /// <summary>Scalar-quantized: a float32 scale and dimension x int8 per row (<see cref="Int8Vectors"/>).</summary>
    Int8 = 1,
}

/// <summary>
/// The segment file format, version 2 (little-endian); version 1 is still read (it has no MIH
/// section and no table count in the metadata). A segment is immutable: written once under a
/// temporary name, synced, renamed. Rationale: docs/format/segment.md.
/// <code>
/// header, 64 bytes:
///   0..7    magic "HDBSEGMT"
///   8..11   u32 format version (2; 1 is read too)
///   12..15  u32 code bits
///   16..23  u64 rows
///   24..27  u32 key kind (1 u64, 2 string, 3 guid)
///   28..31  u32 flags (1: payloads, 2: vectors, 4: vectors stored as int8; 4 only with 2)
///   32..35  u32 vector dimension (0 without vectors)
///   36..59  reserved (0)
///   60..63  u32 CRC-32C of bytes 0..59
/// codes, at 64: rows x ceil(bits/64) u64 words (the kernels' layout, CodeLayout), raw; zero padding to a multiple of 64
/// vectors (flag 2): rows x dimension float32, raw; zero padding to a multiple of 64
///   (flags 2 + 4: rows x (f32 scale, then dimension x i8), each row 4 + dimension bytes with no gap; see Int8Vectors)
/// MIH section (version 2, when the metadata's table count is not 0): for each table in order, each
///   array starting where the one before it ends, each followed by zero padding to a multiple of 64:
///   offsets  (2^directBits + 1) x i32: bucket v holds postings offsets[v] .. offsets[v + 1] - 1
///   rows     rows x i32: the row of each posting
///   words    (flag 1 or 2 of the table, never both) rows x u64, one per posting:
///            flag 1, inline codes: the code of the posting (codes of at most 64 bits only);
///            flag 2, filter words: for a table of bits [start, start + bits) of a B-bit code (B over 64 only), bit i of the
///            word, for i &lt; L = min(64, B - bits), is code bit (start + bits + i) mod B (the bits after the substring, wrapping
///            round the code, never overlapping it: fewer than 64 when B &lt; bits + 64); bits L..63 are 0
///   The section runs from the first table's offsets array to the end of the last array's padding.
/// key blocks, then payload blocks (flag 1): one block per 4096 rows, each
///   0..3    u32 CRC-32C of bytes 4..(16 + stored - 1)
///   4..7    u32 raw bytes   8..11  u32 stored bytes   12  u8 encoding (0 raw, 1 LZ4 block)   13..15 reserved (0)
///   16..    stored bytes. Raw content: keys fixed 8 or 16 bytes each, or (string) u16 length + UTF-8;
///           payloads u32 length + bytes, per row.
/// metadata: u32 CRC-32C per MiB of the codes section; u64 offset of every key block and of its end;
///           (flag 1) the same for payload blocks; (flag 2) u32 CRC-32C per MiB of the vector section;
///           (version 2) u32 MIH table count (at most the code bits), then per table 40 bytes:
///             0..3   u32 start (first bit of the substring)   4..7   u32 bits (1..64, start + bits &lt;= code bits)
///             8..11  u32 direct bits (1..24, &lt;= bits)        12..15 u32 flags (0: none; 1: inline codes, code bits &lt;= 64 only;
///                                                                        2: filter words, code bits over 64 only; any other value is refused)
///             16..23 u64 offset of the offsets array   24..31 u64 offset of the rows array   32..39 u64 offset of the words array (0 without)
///           then u32 CRC-32C per MiB of the MIH section (none when it is empty)
/// footer, last 64 bytes:
///   0..7    u64 codes offset (64)      8..15   u64 vectors offset (0 without)
///   16..23  u64 metadata offset        24..27  u32 metadata bytes      28..31  u32 CRC-32C of the metadata
///   32..39  u64 rows                   40..43  u32 code bits           44..47  u32 key kind
///   48..51  u32 flags                  52..55  u32 vector dimension    56..59  u32 format version (as in the header)
///   60..63  u32 CRC-32C of bytes 0..59
/// </code>
/// </summary>
internal static class SegmentFormat
{
    public const int HeaderBytes = 64;
    public const int FooterBytes = 64;
    public const int BlockHeaderBytes = 16;
    public const int RowsPerBlock = 4096;
    public const int ChecksumChunkBytes = 1 << 20;
    public const uint Version = 2;

    /// <summary>The oldest version this build reads: version 1, without MIH tables.</summary>
    public const uint OldestVersion = 1;
    public const uint FlagPayloads = 1;
    public const uint FlagVectors = 2;

    /// <summary>With <see cref="FlagVectors"/>: the vectors are int8 with a scale per row (<see cref="Int8Vectors"/>).</summary>
    public const uint FlagInt8Vectors = 4;
    public const int MaxStringKeyBytes = ushort.MaxValue;

    public static ReadOnlySpan<byte> Magic => "HDBSEGMT"u8;

    /// <summary>The bytes of one MIH table's entry in the metadata.</summary>
    public const int MihTableEntryBytes = 40;

    /// <summary>Table flag: the postings carry their codes (codes of at most 64 bits).</summary>
    public const uint MihFlagInlineCodes = 1;

    /// <summary>Table flag: the postings carry filter words, the bits after the substring (codes over 64 bits; see the layout above).</summary>
    public const uint MihFlagFilterWords = 2;

    /// <summary>The widest substring a table may index, and the widest code whose postings may carry it inline.</summary>
    public const int MaxMihBits = 64;

    /// <summary>The most direct-addressed bits of a table: 2^24 + 1 offsets (64 MiB).</summary>
    public const int MaxMihDirectBits = 24;

    /// <summary>
    /// Where the arrays of one MIH table go when the one before ends at <paramref name="at"/> (64-byte aligned):
    /// its offsets, its rows, its words (inline codes or filter words; 0 without) and the end of its last array's padding.
    /// </summary>
    public static (long Offsets, long Rows, long Codes, long End) MihTablePlace(long at, int directBits, long rows, bool words)
    {
        long offsets = at;
        long rowsAt = Align64(offsets + 4L * ((1L << directBits) + 1));
        long end = Align64(rowsAt + 4L * rows);
        long codes = 0;
        if (words)
        {
            codes = end;
            end = Align64(codes + 8L * rows);
        }
        return (offsets, rowsAt, codes, end);
    }

    public static int FixedKeyBytes(KeyKind kind) => kind switch
    {
        KeyKind.UInt64 => 8,
        KeyKind.Guid => 16,
        _ => 0,
    };

    /// <summary>The bytes of the vector section (before its padding) of <paramref name="rows"/> rows.</summary>
    public static long VectorBytes(long rows, int dimension, VectorKind kind) =>
        dimension == 0 ? 0 : rows * (kind == VectorKind.Int8 ? Int8Vectors.RowBytes(dimension) : (long)dimension * sizeof(float));

    public static long Align64(long offset) => (offset + 63) & ~63L;

    public static int ChunkCount(long bytes) => (int)((bytes + ChecksumChunkBytes - 1) / ChecksumChunkBytes);

    /// <summary>Encodes one block (LZ4 when it pays, else raw) into <paramref name="output"/>; returns its size.</summary>
    public static int EncodeBlock(ReadOnlySpan<byte> raw, Span<byte> output)
    {
        Span<byte> stored = output[BlockHeaderBytes..];
        int encoded = raw.Length == 0 ? -1 : LZ4Codec.Encode(raw, stored, LZ4Level.L00_FAST);
        byte encoding = 1;
        if (encoded <= 0 || encoded >= raw.Length)
        {
            raw.CopyTo(stored);
            encoded = raw.Length;
            encoding = 0;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(output[4..], (uint)raw.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(output[8..], (uint)encoded);
        output[12] = encoding;
        output[13..16].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(output, Crc32C.Compute(output[4..(BlockHeaderBytes + encoded)]));
        return BlockHeaderBytes + encoded;
    }

    /// <summary>The largest encoded size of a block of <paramref name="rawBytes"/> bytes.</summary>
    public static int MaxBlockBytes(int rawBytes) => BlockHeaderBytes + Math.Max(rawBytes, LZ4Codec.MaximumOutputSize(rawBytes));

    /// <summary>Checks the block <paramref name="block"/> found at <paramref name="offset"/> of <paramref name="path"/>: its length and its checksum.</summary>
    public static void CheckBlock(ReadOnlySpan<byte> block, long offset, string path)
    {
        if (block.Length < BlockHeaderBytes)
        {
            throw new CorruptionException(path, offset, "a block is shorter than its header");
        }
        uint storedBytes = BinaryPrimitives.ReadUInt32LittleEndian(block[8..]);
        if (storedBytes != block.Length - BlockHeaderBytes)
        {
            throw new CorruptionException(path, offset, $"the block says {storedBytes} stored bytes but spans {block.Length - BlockHeaderBytes}");
        }
        if (Crc32C.Compute(block[4..]) != BinaryPrimitives.ReadUInt32LittleEndian(block))
        {
            throw new CorruptionException(path, offset, "the block checksum does not match");
        }
    }

    /// <summary>Decodes the block <paramref name="block"/> found at <paramref name="offset"/> of <paramref name="path"/>, checked first unless <paramref name="checkedBefore"/>.</summary>
    public static byte[] DecodeBlock(ReadOnlySpan<byte> block, long offset, string path, bool checkedBefore = false)
    {
        if (!checkedBefore)
        {
            CheckBlock(block, offset, path);
        }
        int rawBytes = (int)BinaryPrimitives.ReadUInt32LittleEndian(block[4..]);
        byte encoding = block[12];
        ReadOnlySpan<byte> stored = block[BlockHeaderBytes..];
        if (encoding == 0 && rawBytes == stored.Length)
        {
            return stored.ToArray();
        }
        if (encoding != 1 || rawBytes < 0 || rawBytes > 256 * stored.Length + 16)
        {
            throw new CorruptionException(path, offset + 12, $"encoding {encoding} with {rawBytes} raw bytes from {stored.Length} stored is impossible");
        }
        var raw = new byte[rawBytes];
        if (LZ4Codec.Decode(stored, raw) != rawBytes)
        {
            throw new CorruptionException(path, offset + BlockHeaderBytes, "the LZ4 block does not decode to its stated size");
        }
        return raw;
    }
}
