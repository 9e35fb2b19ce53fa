using System.Buffers.Binary;
using System.Text;
using HammingDB.Storage.Segments;

namespace HammingDB.Storage.Manifest;

/// <summary>
/// Reads and switches the manifest (format version 2, little-endian; version 1 is still read), replaced
/// whole and atomically by every change (<see cref="DurableFile.Replace"/>). Rationale: docs/format/manifest.md.
/// <code>
/// header, 32 bytes:
///   0..7    magic "HDBMANIF"
///   8..11   u32 format version (2; 1 is read too)
///   12..15  u32 reserved (0)
///   16..23  u64 body bytes
///   24..27  u32 reserved (0)
///   28..31  u32 CRC-32C of bytes 0..27
/// body:
///   u64 manifest version, u64 next file number, u64 log number, u32 collection count; per collection:
///     u32 id, u16 name bytes + UTF-8 name, u32 code bits, u32 key kind, u32 flags (1: payloads),
///     u32 vector dimension, (version 2) u32 vector storage (0 float32, 1 int8), u32 segment count; per segment:
///       u64 file number, u32 rows, u64 deletion version (0: none), u32 deleted rows;
///     (version 2) u32 attachment count; per attachment:
///       u16 name bytes + name (ASCII, 1..64 of a-z 0-9 . _ -), u64 file number (att-NNNNNNNNNN.hdba)
///   Version 1 has neither version-2 field: its collections store float32 vectors and have no attachments.
/// u32 CRC-32C of the body
/// </code>
/// </summary>
internal static class ManifestStore
{
    public const int HeaderBytes = 32;
    public const uint Version = 2;

    /// <summary>The oldest version this build reads: version 1, without vector storage and attachments.</summary>
    public const uint OldestVersion = 1;

    private static ReadOnlySpan<byte> Magic => "HDBMANIF"u8;

    /// <summary>Replaces the manifest of <paramref name="directory"/> with <paramref name="state"/>.</summary>
    public static void Write(IFileSystem fileSystem, string directory, ManifestState state)
    {
        byte[] bytes = Encode(state);
        DurableFile.Replace(fileSystem, directory, FileNames.Manifest, KillPoints.Manifest, file => file.Write(0, bytes));
    }

    /// <summary>The manifest of <paramref name="directory"/>, or null when there is none (a new database).</summary>
    /// <exception cref="CorruptionException">The manifest is damaged.</exception>
    public static ManifestState? Read(IFileSystem fileSystem, string directory)
    {
        string path = Path.Combine(directory, FileNames.Manifest);
        if (!fileSystem.FileExists(path))
        {
            return null;
        }
        using IStorageFile file = fileSystem.Open(path, writable: false);
        long length = file.Length;
        if (length > 1 << 30)
        {
            throw new CorruptionException(path, 0, $"a manifest of {length} bytes is impossible");
        }
        var bytes = new byte[length];
        file.Read(0, bytes);
        return Decode(bytes, path);
    }

    public static byte[] Encode(ManifestState state)
    {
        var body = new List<byte>();
        var scratch = new byte[8];
        void U32(uint v)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(scratch, v);
            body.AddRange(scratch.AsSpan(0, 4));
        }
        void U64(long v)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(scratch, (ulong)v);
            body.AddRange(scratch);
        }
        U64(state.Version);
        U64(state.NextFileNumber);
        U64(state.LogNumber);
        U32((uint)state.Collections.Count);
        foreach (CollectionState c in state.Collections)
        {
            byte[] name = Encoding.UTF8.GetBytes(c.Name);
            if (name.Length > ushort.MaxValue)
            {
                throw new ArgumentException($"Collection name of {name.Length} UTF-8 bytes is too long.", nameof(state));
            }
            U32(c.Id);
            body.Add((byte)name.Length);
            body.Add((byte)(name.Length >> 8));
            body.AddRange(name);
            U32((uint)c.CodeBits);
            U32((uint)c.KeyKind);
            U32(c.HasPayloads ? 1u : 0u);
            U32((uint)c.VectorDimension);
            U32((uint)c.VectorKind);
            U32((uint)c.Segments.Count);
            foreach (SegmentState s in c.Segments)
            {
                U64(s.FileNumber);
                U32((uint)s.Rows);
                U64(s.DeletionVersion);
                U32((uint)s.DeletedRows);
            }
            U32((uint)c.Attachments.Count);
            foreach (AttachmentState a in c.Attachments)
            {
                byte[] attachment = Encoding.ASCII.GetBytes(a.Name);
                body.Add((byte)attachment.Length);
                body.Add((byte)(attachment.Length >> 8));
                body.AddRange(attachment);
                U64(a.FileNumber);
            }
        }
        var bytes = new byte[HeaderBytes + body.Count + 4];
        FileHeader.Begin(bytes.AsSpan(0, HeaderBytes), Magic, Version);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), (ulong)body.Count);
        FileHeader.Seal(bytes.AsSpan(0, HeaderBytes));
        body.CopyTo(bytes, HeaderBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(HeaderBytes + body.Count), Crc32C.Compute(bytes.AsSpan(HeaderBytes, body.Count)));
        return bytes;
    }

    public static ManifestState Decode(ReadOnlySpan<byte> bytes, string path)
    {
        if (bytes.Length < HeaderBytes + 4)
        {
            throw new CorruptionException(path, bytes.Length, $"{bytes.Length} bytes cannot hold a manifest");
        }
        uint version = FileHeader.Check(bytes, HeaderBytes, Magic, OldestVersion, Version, "manifest", path);
        ulong bodyBytes = BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]);
        if (bodyBytes != (ulong)(bytes.Length - HeaderBytes - 4))
        {
            throw new CorruptionException(path, 16, $"the header says {bodyBytes} body bytes; the file holds {bytes.Length - HeaderBytes - 4}");
        }
        ReadOnlySpan<byte> body = bytes.Slice(HeaderBytes, (int)bodyBytes);
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes[(HeaderBytes + body.Length)..]) != Crc32C.Compute(body))
        {
            throw new CorruptionException(path, HeaderBytes + body.Length, "the body checksum does not match");
        }
        var reader = new BodyReader(body, path);
        long manifestVersion = reader.U64();
        long nextFile = reader.U64();
        long log = reader.U64();
        reader.Require(log >= 1 && nextFile >= 1, 8, $"log number {log} or next file number {nextFile} is not a file number");
        uint collectionCount = reader.U32();
        var collections = new List<CollectionState>();
        for (uint i = 0; i < collectionCount; i++)
        {
            uint id = reader.U32();
            string name = reader.Name();
            uint bits = reader.U32();
            reader.Require(bits is >= 8 and <= 8192 && bits % 8 == 0, 4, $"collection '{name}' has {bits}-bit codes, not a code width");
            var kind = (KeyKind)reader.U32();
            reader.Require(Enum.IsDefined(kind), 4, $"key kind {(uint)kind} of collection '{name}' is unknown");
            bool payloads = reader.U32() != 0;
            uint dimension = reader.U32();
            reader.Require(dimension <= 1 << 16, 4, $"vector dimension {dimension} of collection '{name}' is over 65536");
            var vectorKind = VectorKind.Float32;
            if (version >= 2)
            {
                uint storage = reader.U32();
                if (!Enum.IsDefined((VectorKind)storage))
                {
                    throw new CorruptionException(path, HeaderBytes + reader.Position - 4, $"vector storage {storage} of collection '{name}' is unknown");
                }
                vectorKind = (VectorKind)storage;
            }
            uint segmentCount = reader.U32();
            var segments = new List<SegmentState>();
            for (uint j = 0; j < segmentCount; j++)
            {
                var segment = new SegmentState(reader.U64(), (int)reader.U32(), reader.U64(), (int)reader.U32());
                reader.Require(segment.FileNumber >= 1 && segment.Rows >= 0 && segment.DeletionVersion >= 0 && segment.DeletedRows >= 0
                    && segment.DeletedRows <= segment.Rows, 28, $"segment {segment.FileNumber} of collection '{name}' has impossible numbers");
                segments.Add(segment);
            }
            var attachments = new List<AttachmentState>();
            if (version >= 2)
            {
                uint attachmentCount = reader.U32();
                for (uint j = 0; j < attachmentCount; j++)
                {
                    attachments.Add(new AttachmentState(reader.Name(), reader.U64()));
                }
            }
            collections.Add(new CollectionState(id, name, (int)bits, kind, payloads, (int)dimension, segments) { VectorKind = vectorKind, Attachments = attachments });
        }
        reader.End();
        return new ManifestState(manifestVersion, nextFile, log, collections);
    }

    // Reads the checksummed body; a length that does not add up is still reported, never trusted.
    private ref struct BodyReader(ReadOnlySpan<byte> body, string path)
    {
        private readonly ReadOnlySpan<byte> _body = body;
        private int _at;

        public readonly int Position => _at;

        public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

        public long U64() => (long)BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        public string Name()
        {
            ReadOnlySpan<byte> length = Take(2);
            return Encoding.UTF8.GetString(Take(length[0] | (length[1] << 8)));
        }

        /// <summary>Throws unless <paramref name="condition"/>: the field of <paramref name="fieldBytes"/> bytes just read is impossible.</summary>
        public readonly void Require(bool condition, int fieldBytes, string reason)
        {
            if (!condition)
            {
                throw new CorruptionException(path, HeaderBytes + _at - fieldBytes, reason);
            }
        }

        public readonly void End()
        {
            if (_at != _body.Length)
            {
                throw new CorruptionException(path, HeaderBytes + _at, $"{_body.Length - _at} bytes follow the last collection");
            }
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count > _body.Length - _at)
            {
                throw new CorruptionException(path, HeaderBytes + _at, "the body ends inside an entry");
            }
            ReadOnlySpan<byte> span = _body.Slice(_at, count);
            _at += count;
            return span;
        }
    }
}
