using System.Buffers;
using System.Buffers.Binary;

namespace HammingDB.Storage.Log;

/// <summary>
/// The write-ahead log file format, version 1 (little-endian). Rationale: docs/format/log.md.
/// <code>
/// header, 32 bytes:
///   0..7    magic "HDBWALOG"
///   8..11   u32 format version (1)
///   12..15  u32 reserved (0)
///   16..23  u64 log number (the number in the file name)
///   24..27  u32 reserved (0)
///   28..31  u32 CRC-32C of bytes 0..27
/// records, one after another to the end of the file:
///   0..3    u32 CRC-32C of bytes 4..(8 + length)
///   4..7    u32 length: payload bytes (at most MaxPayloadBytes)
///   8       u8  record type, 1..255 (0 is never written: a zero-filled tail is no record)
///   9..     payload
/// </code>
/// Codes have no width at this level: the log serves every collection, and each payload names its
/// own. A reader stops at the first record that is short, has type 0, an impossible length or a
/// wrong checksum: that is the unsynced tail of a crash, never an acknowledged record (a record is
/// acknowledged only after a sync that covers it and everything before it).
/// </summary>
internal static class LogFormat
{
    public const int HeaderBytes = 32;
    public const int RecordHeaderBytes = 9;
    public const uint Version = 1;

    /// <summary>The largest payload one record may hold.</summary>
    public const int MaxPayloadBytes = 64 << 20;

    public static ReadOnlySpan<byte> Magic => "HDBWALOG"u8;

    public static void WriteHeader(Span<byte> header, long number)
    {
        FileHeader.Begin(header[..HeaderBytes], Magic, Version);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], (ulong)number);
        FileHeader.Seal(header[..HeaderBytes]);
    }

    /// <summary>Checks a header read from <paramref name="path"/>; returns the log number.</summary>
    public static long ReadHeader(ReadOnlySpan<byte> header, string path)
    {
        FileHeader.Check(header, HeaderBytes, Magic, Version, "log", path);
        return (long)BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
    }

    /// <summary>Appends one framed record to <paramref name="output"/>.</summary>
    public static void WriteRecord(IBufferWriter<byte> output, byte type, ReadOnlySpan<byte> payload)
    {
        Span<byte> span = output.GetSpan(RecordHeaderBytes + payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], (uint)payload.Length);
        span[8] = type;
        payload.CopyTo(span[RecordHeaderBytes..]);
        uint crc = Crc32C.Compute(span[4..(RecordHeaderBytes + payload.Length)]);
        BinaryPrimitives.WriteUInt32LittleEndian(span, crc);
        output.Advance(RecordHeaderBytes + payload.Length);
    }
}
