using System.Buffers.Binary;

namespace HammingDB.Storage.Log;

/// <summary>One record read back from a log.</summary>
internal readonly record struct LogRecord(long Offset, byte Type, ReadOnlyMemory<byte> Payload);

/// <summary>What <see cref="LogReader.Read"/> found: the valid records and where the valid prefix ends.</summary>
/// <param name="Number">The log number in the header.</param>
/// <param name="Records">Every record of the valid prefix, in order.</param>
/// <param name="ValidLength">Bytes of the valid prefix; a writer reopening the log continues here.</param>
/// <param name="TailProblem">Why reading stopped before the end of the file, or null when it did not.</param>
internal sealed record LogContents(long Number, IReadOnlyList<LogRecord> Records, long ValidLength, string? TailProblem);

/// <summary>Reads a write-ahead log (format: <see cref="LogFormat"/>).</summary>
internal static class LogReader
{
    /// <summary>
    /// Reads every record of the valid prefix. A damaged header is a <see cref="CorruptionException"/>
    /// (it was synced before the log was renamed into place); a damaged record ends the prefix.
    /// </summary>
    public static LogContents Read(IStorageFile file)
    {
        long length = file.Length;
        var header = new byte[LogFormat.HeaderBytes];
        int got = file.Read(0, header);
        long number = LogFormat.ReadHeader(header.AsSpan(0, got), file.Path);

        var records = new List<LogRecord>();
        long offset = LogFormat.HeaderBytes;
        Span<byte> recordHeader = stackalloc byte[LogFormat.RecordHeaderBytes];
        string? problem = null;
        while (offset < length)
        {
            if (length - offset < LogFormat.RecordHeaderBytes)
            {
                problem = $"a record header at offset {offset} is cut off ({length - offset} bytes left)";
                break;
            }
            file.Read(offset, recordHeader);
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(recordHeader);
            uint payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(recordHeader[4..]);
            byte type = recordHeader[8];
            if (type == 0)
            {
                problem = $"the record at offset {offset} has type 0 (unwritten bytes)";
                break;
            }
            if (payloadLength > LogFormat.MaxPayloadBytes || payloadLength > length - offset - LogFormat.RecordHeaderBytes)
            {
                problem = $"the record at offset {offset} claims {payloadLength} payload bytes; {length - offset - LogFormat.RecordHeaderBytes} remain";
                break;
            }
            var payload = new byte[payloadLength];
            file.Read(offset + LogFormat.RecordHeaderBytes, payload);
            uint actual = Crc32C.Append(Crc32C.Compute(recordHeader[4..]), payload);
            if (actual != crc)
            {
                problem = $"the record at offset {offset} fails its checksum";
                break;
            }
            records.Add(new LogRecord(offset, type, payload));
            offset += LogFormat.RecordHeaderBytes + payloadLength;
        }
        return new LogContents(number, records, offset, problem);
    }

    /// <summary>
    /// Where a whole, checksummed record starts after <paramref name="from"/> (where a valid prefix
    /// ended) that proves the bytes at <paramref name="from"/> were synced - its <c>synced</c> field
    /// is past <paramref name="from"/> - or null when none does. A torn tail holds none: a record
    /// queued after the bad one was synced would say so, and records of the last, unsynced write may
    /// survive a crash out of order but say nothing past it. So one found means the log is damaged,
    /// not torn, and acknowledged records follow the damage. Every byte offset is tried;
    /// <paramref name="plausible"/> (record type, the payload's first bytes, at most 16) rules out
    /// most offsets before their checksum is computed.
    /// </summary>
    public static long? FindRecordAfter(IStorageFile file, long from, Func<byte, ReadOnlySpan<byte>, bool> plausible)
    {
        using MappedRegion region = file.MapReadOnly();
        long length = region.Length;
        for (long offset = from + 1; offset <= length - LogFormat.RecordHeaderBytes; offset++)
        {
            ReadOnlySpan<byte> header = region.Span(offset, LogFormat.RecordHeaderBytes);
            byte type = header[8];
            uint payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            ulong synced = BinaryPrimitives.ReadUInt64LittleEndian(header[9..]);
            if (type == 0 || synced <= (ulong)from || synced > (ulong)offset
                || payloadLength > LogFormat.MaxPayloadBytes || payloadLength > length - offset - LogFormat.RecordHeaderBytes)
            {
                continue;
            }
            ReadOnlySpan<byte> payload = region.Span(offset + LogFormat.RecordHeaderBytes, (int)payloadLength);
            if (plausible(type, payload[..Math.Min(16, payload.Length)])
                && Crc32C.Append(Crc32C.Compute(header[4..]), payload) == BinaryPrimitives.ReadUInt32LittleEndian(header))
            {
                return offset;
            }
        }
        return null;
    }
}
