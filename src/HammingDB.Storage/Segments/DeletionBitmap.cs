using System.Buffers.Binary;
using System.Numerics;

namespace HammingDB.Storage.Segments;

/// <summary>
/// Which rows of a sealed segment are deleted. Segments never change; deleting rows writes a new
/// version of this small file (<c>del-SEGMENT-VERSION.hdbd</c>) and the manifest switches to it.
/// Format version 1 (little-endian):
/// <code>
///   0..7    magic "HDBDELBM"
///   8..11   u32 format version (1)
///   12..15  u32 reserved (0)
///   16..23  u64 segment rows
///   24..27  u32 deleted rows (the number of set bits)
///   28..31  u32 CRC-32C of bytes 0..27
///   32..    ceil(rows / 8) bytes: bit (row % 8) of byte (row / 8) set when the row is deleted
///   then    u32 CRC-32C of the bitmap bytes
/// </code>
/// </summary>
internal sealed class DeletionBitmap
{
    public const int HeaderBytes = 32;
    public const uint Version = 1;

    private readonly ulong[] _words;

    public DeletionBitmap(int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        Rows = rows;
        _words = new ulong[(rows + 63) / 64];
    }

    private static ReadOnlySpan<byte> Magic => "HDBDELBM"u8;

    public int Rows { get; }

    public int DeletedRows { get; private set; }

    public bool IsDeleted(int row) => (_words[row >> 6] & (1UL << row)) != 0;

    /// <summary>Marks <paramref name="row"/> deleted; returns false if it already was.</summary>
    public bool Delete(int row)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Rows, nameof(row));
        ulong bit = 1UL << row;
        if ((_words[row >> 6] & bit) != 0)
        {
            return false;
        }
        _words[row >> 6] |= bit;
        DeletedRows++;
        return true;
    }

    public DeletionBitmap Clone()
    {
        var copy = new DeletionBitmap(Rows) { DeletedRows = DeletedRows };
        _words.CopyTo(copy._words, 0);
        return copy;
    }

    public byte[] Encode()
    {
        int bitmapBytes = (Rows + 7) / 8;
        var bytes = new byte[HeaderBytes + bitmapBytes + 4];
        FileHeader.Begin(bytes.AsSpan(0, HeaderBytes), Magic, Version);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), (ulong)Rows);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(24), (uint)DeletedRows);
        FileHeader.Seal(bytes.AsSpan(0, HeaderBytes));
        Span<byte> bitmap = bytes.AsSpan(HeaderBytes, bitmapBytes);
        for (int i = 0; i < bitmapBytes; i++)
        {
            bitmap[i] = (byte)(_words[i / 8] >> (8 * (i % 8)));
        }
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(HeaderBytes + bitmapBytes), Crc32C.Compute(bitmap));
        return bytes;
    }

    /// <summary>Decodes a bitmap of a segment of <paramref name="rows"/> rows read from <paramref name="path"/>.</summary>
    public static DeletionBitmap Decode(ReadOnlySpan<byte> bytes, int rows, string path)
    {
        int bitmapBytes = (rows + 7) / 8;
        if (bytes.Length != HeaderBytes + bitmapBytes + 4)
        {
            throw new CorruptionException(path, Math.Min(bytes.Length, HeaderBytes), $"a bitmap of {rows} rows takes {HeaderBytes + bitmapBytes + 4} bytes; the file holds {bytes.Length}");
        }
        FileHeader.Check(bytes, HeaderBytes, Magic, Version, "deletion bitmap", path);
        if (BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]) != (ulong)rows)
        {
            throw new CorruptionException(path, 16, $"the bitmap is for {BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..])} rows; its segment has {rows}");
        }
        ReadOnlySpan<byte> bitmap = bytes.Slice(HeaderBytes, bitmapBytes);
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes[(HeaderBytes + bitmapBytes)..]) != Crc32C.Compute(bitmap))
        {
            throw new CorruptionException(path, HeaderBytes + bitmapBytes, "the bitmap checksum does not match");
        }
        var result = new DeletionBitmap(rows);
        int deleted = 0;
        for (int i = 0; i < bitmapBytes; i++)
        {
            result._words[i / 8] |= (ulong)bitmap[i] << (8 * (i % 8));
            deleted += BitOperations.PopCount(bitmap[i]);
        }
        if (rows % 8 != 0 && (bitmap[^1] >> (rows % 8)) != 0)
        {
            throw new CorruptionException(path, HeaderBytes + bitmapBytes - 1, "bits past the last row are set");
        }
        uint stated = BinaryPrimitives.ReadUInt32LittleEndian(bytes[24..]);
        if (stated != deleted)
        {
            throw new CorruptionException(path, 24, $"the header says {stated} deleted rows; the bitmap holds {deleted}");
        }
        result.DeletedRows = deleted;
        return result;
    }

    /// <summary>Writes this bitmap as version <paramref name="version"/> of segment <paramref name="segment"/>'s deletions.</summary>
    public void Write(IFileSystem fileSystem, string directory, long segment, long version)
    {
        byte[] bytes = Encode();
        DurableFile.Replace(fileSystem, directory, FileNames.Deletions(segment, version), KillPoints.Deletions, file => file.Write(0, bytes));
    }

    public static DeletionBitmap Read(IFileSystem fileSystem, string directory, long segment, long version, int rows)
    {
        string path = Path.Combine(directory, FileNames.Deletions(segment, version));
        using IStorageFile file = fileSystem.Open(path, writable: false);
        long length = file.Length;
        if (length > HeaderBytes + ((long)rows + 7) / 8 + 4)
        {
            throw new CorruptionException(path, 0, $"{length} bytes is too long for a bitmap of {rows} rows");
        }
        var bytes = new byte[length];
        file.Read(0, bytes);
        return Decode(bytes, rows, path);
    }
}
