using System.Buffers.Binary;
using HammingDB.Storage;

namespace HammingDB.Fuzz;

/// <summary>
/// Recomputes the checksums of a mutated file, so that a mutation reaches the checks behind them (a
/// random mutation almost never passes a CRC-32C). Best effort, on a copy: a checksum whose place or
/// range the bytes do not give is left as it is. Null for formats without checksums. The layouts are
/// those of docs/format/ and the format classes' comments.
/// </summary>
internal static class Reseal
{
    public static byte[]? For(string target, byte[] bytes)
    {
        byte[] copy = bytes.ToArray();
        switch (target)
        {
            case "segment":
                Segment(copy);
                return copy;
            case "manifest":
                if (copy.Length >= 36)
                {
                    // The body length is made to agree, so that the body checksum is over the body.
                    BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(16), (ulong)(copy.Length - 36));
                    Header(copy, 32);
                    Trailer(copy, 32);
                }
                return copy;
            case "deletions":
            case "attachment":
                Header(copy, 32);
                Trailer(copy, 32);
                return copy;
            case "log":
                Header(copy, 32);
                LogRecords(copy);
                return copy;
            case "encoder":
                if (copy.Length >= 56)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(40), (ulong)copy.Length);
                    Crc(copy, 0, copy.Length - 4, copy.Length - 4);
                }
                return copy;
            default:
                return null;
        }
    }

    // The header's CRC-32C in its last 4 bytes (FileHeader).
    private static void Header(byte[] bytes, int headerBytes)
    {
        if (bytes.Length >= headerBytes)
        {
            Crc(bytes, 0, headerBytes - 4, headerBytes - 4);
        }
    }

    // A CRC-32C of everything between the header and the last 4 bytes, stored in them.
    private static void Trailer(byte[] bytes, int headerBytes)
    {
        if (bytes.Length >= headerBytes + 4)
        {
            Crc(bytes, headerBytes, bytes.Length - 4 - headerBytes, bytes.Length - 4);
        }
    }

    private static void LogRecords(byte[] bytes)
    {
        long offset = 32;
        while (offset + 17 <= bytes.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)offset + 4));
            if (length > bytes.Length - offset - 17)
            {
                return;
            }
            Crc(bytes, (int)offset + 4, 13 + (int)length, (int)offset);
            offset += 17 + length;
        }
    }

    // Inner checksums first (codes, vectors, MIH section, blocks), then the metadata's, the header's and the footer's.
    // Files under 1 MiB hold one checksum chunk per section.
    private static void Segment(byte[] bytes)
    {
        const int header = 64, footer = 64;
        if (bytes.Length < header + footer)
        {
            return;
        }
        Header(bytes, header);
        int footerAt = bytes.Length - footer;
        Span<byte> f = bytes.AsSpan(footerAt);
        // The footer repeats the header's fields.
        bytes.AsSpan(16, 8).CopyTo(f[32..]);
        bytes.AsSpan(12, 4).CopyTo(f[40..]);
        bytes.AsSpan(24, 12).CopyTo(f[44..]);
        bytes.AsSpan(8, 4).CopyTo(f[56..]);
        ulong metadataAt = BinaryPrimitives.ReadUInt64LittleEndian(f[16..]);
        uint metadataBytes = BinaryPrimitives.ReadUInt32LittleEndian(f[24..]);
        if (metadataAt <= (ulong)footerAt && metadataBytes <= (ulong)footerAt - metadataAt)
        {
            SegmentMetadata(bytes, (int)metadataAt, (int)metadataBytes);
            Crc(bytes, (int)metadataAt, (int)metadataBytes, footerAt + 28);
        }
        Crc(bytes, footerAt, 60, footerAt + 60);
    }

    private static void SegmentMetadata(byte[] bytes, int metadataAt, int metadataBytes)
    {
        uint bits = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12));
        ulong rows = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16));
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(28));
        uint dimension = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(32));
        if (bits is 0 or > 8192 || rows > (ulong)bytes.Length || dimension > 1 << 16)
        {
            return;
        }
        long stride = (bits + 63) / 64 * 8;
        long codesEnd = 64 + (long)rows * stride;
        int at = metadataAt;
        int end = metadataAt + metadataBytes;
        if (codesEnd > bytes.Length || at + 4 > end)
        {
            return;
        }
        if (rows > 0)
        {
            Crc(bytes, 64, (int)(codesEnd - 64), at);
            at += 4;
        }
        int blocks = (int)((rows + 4095) / 4096);
        bool payloads = (flags & 1) != 0;
        for (int column = 0; column < (payloads ? 2 : 1); column++)
        {
            for (int b = 0; b < blocks && at + 8 * (b + 2) <= end; b++)
            {
                ulong start = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at + 8 * b));
                ulong stop = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at + 8 * (b + 1)));
                if (start + 16 <= stop && stop <= (ulong)bytes.Length)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan((int)start + 8), (uint)(stop - start - 16));
                    Crc(bytes, (int)start + 4, (int)(stop - start - 4), (int)start);
                }
            }
            at += 8 * (blocks + 1);
        }
        long vectorsEnd = codesEnd;
        if ((flags & 2) != 0 && dimension > 0)
        {
            long vectorsAt = (codesEnd + 63) & ~63L;
            long vectorBytes = (long)rows * ((flags & 4) != 0 ? 4 + dimension : 4L * dimension);
            vectorsEnd = vectorsAt + vectorBytes;
            if (vectorBytes > 0 && vectorsEnd <= bytes.Length && at + 4 <= end)
            {
                Crc(bytes, (int)vectorsAt, (int)vectorBytes, at);
                at += 4;
            }
        }
        // Version 2: the MIH section runs from the aligned end of the data to the first key block; its one checksum ends the metadata.
        long sectionAt = (vectorsEnd + 63) & ~63L;
        long firstBlockAt = at - metadataAt >= 0 && metadataAt + 4 * (rows > 0 ? 1 : 0) + 8 <= end
            ? (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(metadataAt + (rows > 0 ? 4 : 0)))
            : -1;
        if (firstBlockAt > sectionAt && firstBlockAt <= bytes.Length && end - 4 >= at)
        {
            Crc(bytes, (int)sectionAt, (int)(firstBlockAt - sectionAt), end - 4);
        }
    }

    private static void Crc(byte[] bytes, int start, int length, int at)
    {
        if (start >= 0 && length >= 0 && start + (long)length <= bytes.Length && at >= 0 && at + 4L <= bytes.Length)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), Crc32C.Compute(bytes.AsSpan(start, length)));
        }
    }
}
