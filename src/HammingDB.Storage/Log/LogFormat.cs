using System.Buffers;
using System.Buffers.Binary;

namespace HammingDB.Storage.Log;

/// <summary>
/// The write-ahead log file format, version 2 (little-endian). Rationale: docs/format/log.md.
/// <code>
/// header, 32 bytes:
///   0..7    magic "HDBWALOG"
///   8..11   u32 format version (2)
///   12..15  u32 reserved (0)
///   16..23  u64 log number (the number in the file name)
///   24..27  u32 reserved (0)
///   28..31  u32 CRC-32C of bytes 0..27
/// records, one after another to the end of the file:
///   0..3    u32 CRC-32C of bytes 4..(16 + length)
///   4..7    u32 length: payload bytes (at most MaxPayloadBytes)
///   8       u8  record type, 1..255 (0 is never written: a zero-filled tail is no record)
///   9..16   u64 synced: bytes of this file known synced when the record was queued (a record boundary)
///   17..    payload
/// </code>
/// Codes have no width at this level: the log serves every collection, and each payload names its
/// own. A reader stops at the first record that is short, has type 0, an impossible length or a
/// wrong checksum: the unsynced tail of a crash, or damage. Group commit writes many records with
/// one write and one sync, and a crash may keep a later page of that write and lose an earlier
/// one, so a whole record after a bad one is no proof of damage; its <c>synced</c> field is: when
/// it is past the bad record's offset, that record was synced (acknowledged) before the whole one
/// was even queued.
/// </summary>
internal static class LogFormat
{
    public const int HeaderBytes = 32;
    public const int RecordHeaderBytes = 17;
    public const uint Version = 2;

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

    /// <summary>Appends one framed record to <paramref name="output"/>; <paramref name="synced"/>: bytes of the log synced now.</summary>
    public static void WriteRecord(IBufferWriter<byte> output, byte type, ReadOnlySpan<byte> payload, long synced)
    {
        Span<byte> span = output.GetSpan(RecordHeaderBytes + payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], (uint)payload.Length);
        span[8] = type;
        BinaryPrimitives.WriteUInt64LittleEndian(span[9..], (ulong)synced);
        payload.CopyTo(span[RecordHeaderBytes..]);
        uint crc = Crc32C.Compute(span[4..(RecordHeaderBytes + payload.Length)]);
        BinaryPrimitives.WriteUInt32LittleEndian(span, crc);
        output.Advance(RecordHeaderBytes + payload.Length);
    }
}
