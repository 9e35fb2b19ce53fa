using System.Buffers.Binary;
using System.Text;

namespace HammingDB.Encoders.Data;

/// <summary>
/// The 32-byte header the .hdbf, .labels and .gt formats share (../shared/data/README.md), all
/// little-endian:
/// <code>
/// offset  0: 8-byte magic ("HDBFVECS", "HDBLABEL", "HDBGTIDS")
/// offset  8: u32 field   (.hdbf: dimension; .gt: k; .labels: 0)
/// offset 12: u32 0
/// offset 16: u64 count   (rows; .gt: queries)
/// offset 24: u64 0
/// then the data: count * field values of 4 bytes (.labels: count), row-major.
/// </code>
/// </summary>
internal static class DatasetHeader
{
    /// <summary>Bytes before the data.</summary>
    public const int Bytes = 32;

    /// <summary>The magic of float vectors.</summary>
    public static ReadOnlySpan<byte> VectorsMagic => "HDBFVECS"u8;

    /// <summary>The magic of labels.</summary>
    public static ReadOnlySpan<byte> LabelsMagic => "HDBLABEL"u8;

    /// <summary>The magic of ground truth.</summary>
    public static ReadOnlySpan<byte> GroundTruthMagic => "HDBGTIDS"u8;

    /// <summary>Writes a header.</summary>
    public static void Write(Span<byte> header, ReadOnlySpan<byte> magic, uint field, ulong count)
    {
        header[..Bytes].Clear();
        magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], field);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], count);
    }

    /// <summary>
    /// Reads and checks a header from <paramref name="source"/>: the magic, the zero fields, and
    /// (for an uncompressed file) that count * <paramref name="valuesPerRow"/>(field) 4-byte values
    /// make exactly the rest of the file.
    /// </summary>
    /// <returns>The field at offset 8 and the count.</returns>
    public static (uint Field, ulong Count) Read(DatasetSource source, ReadOnlySpan<byte> magic, string kind, Func<uint, uint> valuesPerRow)
    {
        Span<byte> header = stackalloc byte[Bytes];
        int got = source.ReadAtMost(header);
        if (got < Bytes)
        {
            throw source.Error($"truncated: the {kind} header needs {Bytes} bytes; the file holds {got}");
        }
        if (!header[..8].SequenceEqual(magic))
        {
            throw source.Error($"bad magic \"{Printable(header[..8])}\": not a {kind} file (expected \"{Encoding.ASCII.GetString(magic)}\")");
        }
        uint field = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        uint reserved1 = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        ulong count = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
        ulong reserved2 = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);
        if (reserved1 != 0 || reserved2 != 0)
        {
            throw source.Error($"header: the reserved fields at offsets 12 and 24 are {reserved1} and {reserved2}; both must be 0");
        }
        if (count > long.MaxValue)
        {
            throw source.Error($"header: count {count} is out of range");
        }
        uint perRow = valuesPerRow(field);
        if (source.Length is long length)
        {
            UInt128 expected = (UInt128)count * perRow * 4;
            long actual = length - Bytes;
            if (expected != (ulong)actual)
            {
                long wholeRows = perRow == 0 ? 0 : actual / (perRow * 4L);
                string where = expected > (ulong)actual
                    ? $"the data ends in row {wholeRows}"
                    : $"{actual - (long)(ulong)expected} bytes follow the last row";
                throw source.Error(
                    $"the header's count disagrees with the file length: {count} rows of {perRow} values need {expected} bytes after the header; the file holds {actual} ({where})");
            }
        }
        return (field, count);
    }

    /// <summary>After the last row: throws if bytes follow it.</summary>
    public static void ExpectEnd(DatasetSource source, ulong count, string kind)
    {
        if (!source.AtEnd())
        {
            throw source.Error($"the header's count disagrees with the file length: bytes follow the {count} {kind} rows the header states (at offset {source.Position - 1})");
        }
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length);
        foreach (byte b in bytes)
        {
            text.Append(b is >= 0x20 and < 0x7f ? (char)b : '?');
        }
        return text.ToString();
    }
}
