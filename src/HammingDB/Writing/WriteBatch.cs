using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using HammingDB.Kernels;
using HammingDB.Storage;
using HammingDB.Storage.Log;

namespace HammingDB.Writing;

/// <summary>What a collection's rows carry: the code width, and whether a payload and a vector come with each.</summary>
internal readonly record struct CollectionShape(CodeLayout Layout, bool HasPayloads, int VectorDimension);

internal enum BatchOperation : byte
{
    Upsert = 1,
    Delete = 2,

    /// <summary>An upsert that is skipped when the key has a live row (decided when applied, in log order, so replay decides alike).</summary>
    Insert = 3,
}

/// <summary>One operation of a batch read back from the log.</summary>
internal sealed record BatchEntry(BatchOperation Operation, byte[] Key, ulong[]? Code, byte[]? Payload, float[]? Vector);

/// <summary>
/// Upserts and deletes of one collection, applied all together or not at all: a batch is one log
/// record (type <see cref="RecordType"/>), so recovery replays it whole or, torn, not at all.
/// Payload layout (little-endian):
/// <code>
///   u32 collection id, u32 operations; per operation:
///     u8 operation (1 upsert, 2 delete, 3 insert: an upsert skipped when the key has a live row), u16 key bytes, key (encoded, see KeyCodec)
///     upsert, insert: code (bits/8 bytes, storage order); with payloads: u32 bytes + payload;
///             with vectors: dimension x float32
/// </code>
/// The collection's shape (width, payloads, dimension) is not repeated: it is in the manifest.
/// </summary>
internal sealed class WriteBatch(uint collectionId, CollectionShape shape)
{
    public const byte RecordType = 1;

    /// <summary>The largest payload one row may carry.</summary>
    public const int MaxPayloadBytes = 16 << 20;

    private readonly ArrayBufferWriter<byte> _bytes = Header(collectionId);
    private int _count;

    public uint CollectionId { get; } = collectionId;

    public int Count => _count;

    /// <summary>Adds an upsert, after checking every part of it; on a bad part nothing is added.</summary>
    /// <exception cref="ArgumentException">Wrong code width or padding, wrong vector dimension, NaN or infinity, a payload where none is kept (or none where one is), an oversized row or batch.</exception>
    public void Upsert(byte[] key, ReadOnlySpan<ulong> code, ReadOnlySpan<byte> payload, bool hasPayload, ReadOnlySpan<float> vector) =>
        AddRow(BatchOperation.Upsert, key, code, payload, hasPayload, vector);

    /// <summary>Adds an insert (an upsert skipped when the key has a live row), checked as <see cref="Upsert"/>.</summary>
    public void Insert(byte[] key, ReadOnlySpan<ulong> code, ReadOnlySpan<byte> payload, bool hasPayload, ReadOnlySpan<float> vector) =>
        AddRow(BatchOperation.Insert, key, code, payload, hasPayload, vector);

    private void AddRow(BatchOperation operation, byte[] key, ReadOnlySpan<ulong> code, ReadOnlySpan<byte> payload, bool hasPayload, ReadOnlySpan<float> vector)
    {
        CheckKey(key);
        shape.Layout.Validate(code, nameof(code));
        if (hasPayload != shape.HasPayloads)
        {
            throw new ArgumentException(shape.HasPayloads ? "This collection keeps a payload with every row; none was given." : "This collection keeps no payloads.", nameof(payload));
        }
        if (payload.Length > MaxPayloadBytes)
        {
            throw new ArgumentException($"A payload may be at most {MaxPayloadBytes} bytes; this one is {payload.Length}.", nameof(payload));
        }
        if (vector.Length != shape.VectorDimension)
        {
            throw new ArgumentException($"This collection keeps vectors of dimension {shape.VectorDimension}; got {vector.Length}.", nameof(vector));
        }
        for (int i = 0; i < vector.Length; i++)
        {
            if (!float.IsFinite(vector[i]))
            {
                throw new ArgumentException($"Vector component {i} is {vector[i]}; only finite values are kept.", nameof(vector));
            }
        }
        int size = 3 + key.Length + shape.Layout.CodeBytes + (hasPayload ? 4 + payload.Length : 0) + 4 * vector.Length;
        CheckSize(size);
        Span<byte> row = _bytes.GetSpan(size)[..size];
        row[0] = (byte)operation;
        BinaryPrimitives.WriteUInt16LittleEndian(row[1..], (ushort)key.Length);
        key.CopyTo(row[3..]);
        int at = 3 + key.Length;
        MemoryMarshal.AsBytes(code)[..shape.Layout.CodeBytes].CopyTo(row[at..]);
        at += shape.Layout.CodeBytes;
        if (hasPayload)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(row[at..], (uint)payload.Length);
            payload.CopyTo(row[(at + 4)..]);
            at += 4 + payload.Length;
        }
        MemoryMarshal.AsBytes(vector).CopyTo(row[at..]);
        _bytes.Advance(size);
        _count++;
    }

    public void Delete(byte[] key)
    {
        CheckKey(key);
        CheckSize(3 + key.Length);
        Span<byte> row = _bytes.GetSpan(3 + key.Length)[..(3 + key.Length)];
        row[0] = (byte)BatchOperation.Delete;
        BinaryPrimitives.WriteUInt16LittleEndian(row[1..], (ushort)key.Length);
        key.CopyTo(row[3..]);
        _bytes.Advance(row.Length);
        _count++;
    }

    /// <summary>The log record's payload (valid until the batch changes).</summary>
    public ReadOnlySpan<byte> Encode()
    {
        // The header was written first; the count is patched in place.
        BinaryPrimitives.WriteUInt32LittleEndian(MemoryMarshal.AsMemory(_bytes.WrittenMemory).Span[4..], (uint)_count);
        return _bytes.WrittenSpan;
    }

    /// <summary>The collection id of an encoded batch (to find its shape before decoding).</summary>
    public static uint PeekCollection(ReadOnlySpan<byte> payload, string path, long offset) =>
        payload.Length >= 8 ? BinaryPrimitives.ReadUInt32LittleEndian(payload) : throw new CorruptionException(path, offset, "a batch record is shorter than its header");

    /// <summary>Whether a record of <paramref name="type"/> whose payload starts with <paramref name="start"/> (at least 8 bytes of it) could be a batch.</summary>
    public static bool LooksLikeStart(byte type, ReadOnlySpan<byte> start) =>
        type == RecordType && start.Length >= 8 && BinaryPrimitives.ReadUInt32LittleEndian(start) != 0 && BinaryPrimitives.ReadUInt32LittleEndian(start[4..]) != 0;

    /// <summary>Decodes a batch read from the log at <paramref name="offset"/> of <paramref name="path"/>.</summary>
    /// <exception cref="CorruptionException">The record passed its checksum yet does not parse: damage, reported with its place.</exception>
    public static List<BatchEntry> Decode(ReadOnlySpan<byte> payload, CollectionShape shape, string path, long offset)
    {
        var reader = new Reader(payload, path, offset);
        reader.Take(4);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(reader.Take(4));
        var entries = new List<BatchEntry>((int)Math.Min(count, 1 << 16));
        for (uint i = 0; i < count; i++)
        {
            var operation = (BatchOperation)reader.Take(1)[0];
            int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(reader.Take(2));
            byte[] key = reader.Take(keyLength).ToArray();
            if (operation == BatchOperation.Delete)
            {
                entries.Add(new BatchEntry(operation, key, null, null, null));
                continue;
            }
            if (operation is not (BatchOperation.Upsert or BatchOperation.Insert))
            {
                throw new CorruptionException(path, offset, $"operation {(byte)operation} is unknown");
            }
            var code = new ulong[shape.Layout.WordsPerCode];
            reader.Take(shape.Layout.CodeBytes).CopyTo(MemoryMarshal.AsBytes(code.AsSpan()));
            if ((code[^1] & ~shape.Layout.LastWordMask) != 0)
            {
                throw new CorruptionException(path, offset, "a code has bits set past its width");
            }
            byte[]? rowPayload = null;
            if (shape.HasPayloads)
            {
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(reader.Take(4));
                rowPayload = reader.Take(length > int.MaxValue ? int.MaxValue : (int)length).ToArray();
            }
            float[] vector = MemoryMarshal.Cast<byte, float>(reader.Take(4 * shape.VectorDimension)).ToArray();
            entries.Add(new BatchEntry(operation, key, code, rowPayload, shape.VectorDimension > 0 ? vector : null));
        }
        reader.End();
        return entries;
    }

    private static ArrayBufferWriter<byte> Header(uint collection)
    {
        var bytes = new ArrayBufferWriter<byte>(256);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.GetSpan(8), collection);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.GetSpan(8)[4..], 0);
        bytes.Advance(8);
        return bytes;
    }

    private static void CheckKey(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length > ushort.MaxValue)
        {
            throw new ArgumentException($"A key may be at most {ushort.MaxValue} bytes; this one is {key.Length}.", nameof(key));
        }
    }

    private void CheckSize(int addition)
    {
        if ((long)_bytes.WrittenCount + addition > LogFormat.MaxPayloadBytes)
        {
            throw new ArgumentException($"The batch would exceed {LogFormat.MaxPayloadBytes} bytes; split it.");
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> payload, string path, long offset)
    {
        private readonly ReadOnlySpan<byte> _payload = payload;
        private int _at;

        public ReadOnlySpan<byte> Take(int count)
        {
            if (count > _payload.Length - _at)
            {
                throw new CorruptionException(path, offset, $"the batch record ends inside an operation (byte {_at} of {_payload.Length})");
            }
            ReadOnlySpan<byte> span = _payload.Slice(_at, count);
            _at += count;
            return span;
        }

        public readonly void End()
        {
            if (_at != _payload.Length)
            {
                throw new CorruptionException(path, offset, $"{_payload.Length - _at} bytes follow the last operation of a batch");
            }
        }
    }
}
