using System.Buffers.Binary;
using System.Collections.Concurrent;
using FASTER.core;

namespace HammingDB.Storage.Keys;

/// <summary>Where a key's live row is: a sealed segment's file number and the row in it.</summary>
internal readonly record struct RowLocation(long Segment, int Row)
{
    /// <summary>Segment (32 bits) and row (32 bits) in one long.</summary>
    public long Pack()
    {
        if (Segment is < 1 or > uint.MaxValue || Row < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Segment), $"({Segment}, {Row}) is not a row location.");
        }
        return (Segment << 32) | (uint)Row;
    }

    public static RowLocation Unpack(long packed) => new(packed >>> 32, (int)(uint)packed);
}

/// <summary>
/// Key -> live row of the sealed segments, for every collection. Derived data: it can always be
/// rebuilt from the segments' key columns and deletion bitmaps, and is checkpointed when a segment
/// is sealed. The checkpoint carries a version (the manifest version it matches), so the engine can
/// tell a stale index (a crash between a manifest switch and the checkpoint) and rebuild it.
/// </summary>
internal interface IKeyIndex : IDisposable
{
    /// <summary>The version the last checkpoint (or recovery) recorded; 0 for a new index.</summary>
    long Version { get; }

    void Upsert(uint collection, ReadOnlySpan<byte> key, RowLocation location);

    /// <summary>Points <paramref name="keys"/>[i] at row i of <paramref name="segment"/>, for every i (a sealed segment's keys).</summary>
    void UpsertRows(uint collection, IReadOnlyList<byte[]> keys, long segment);

    bool TryGet(uint collection, ReadOnlySpan<byte> key, out RowLocation location);

    void Delete(uint collection, ReadOnlySpan<byte> key);

    /// <summary>Makes every change so far durable, recorded as <paramref name="version"/>.</summary>
    /// <exception cref="DiskFullException">The device has no room for the checkpoint: nothing was done (the index in memory is unchanged, the stored one stays as it was).</exception>
    void Checkpoint(long version);

    /// <summary>Every entry (not the reserved version entry), in no particular order; for verification. Not to be run beside writes.</summary>
    IEnumerable<KeyIndexEntry> Entries();
}

/// <summary>One entry of a key index: a collection's encoded key and the row it points at.</summary>
internal readonly record struct KeyIndexEntry(uint Collection, byte[] Key, RowLocation Location);

/// <summary>
/// The key index on Microsoft.FASTER.Core: one FasterKV keyed by (collection id, big-endian) +
/// the encoded key, valued by the packed <see cref="RowLocation"/>. Collection id 0 is reserved
/// for the checkpoint version. Thread-safe: each operation takes a session from a pool.
/// </summary>
internal sealed class FasterKeyIndex : IKeyIndex
{
    private const int MaxKeyBytes = 4 + ushort.MaxValue;
    private static readonly byte[] VersionKey = [0, 0, 0, 0];

    private readonly FasterKVSettings<SpanByte, long> _settings;
    private readonly FasterKV<SpanByte, long> _store;
    private readonly ConcurrentBag<Session> _sessions = new();

    private const long CheckpointMarginBytes = 4 << 20;

    private readonly string _directory;

    private FasterKeyIndex(string directory, bool recover)
    {
        _directory = directory;
        _settings = new FasterKVSettings<SpanByte, long>(directory, deleteDirOnDispose: false)
        {
            TryRecoverLatest = recover,
            RemoveOutdatedCheckpoints = true,
            IndexSize = 1L << 25,
            MemorySize = 1L << 31,
            PageSize = 1L << 22,
        };
        _store = new FasterKV<SpanByte, long>(_settings);
        Version = TryGetRaw(VersionKey, out long version) ? version : 0;
    }

    public long Version { get; private set; }

    /// <summary>Opens the index in <paramref name="directory"/>, recovering its latest checkpoint if there is one.</summary>
    public static FasterKeyIndex Open(string directory)
    {
        Directory.CreateDirectory(directory);
        return new FasterKeyIndex(directory, recover: true);
    }

    /// <summary>A new, empty index in <paramref name="directory"/> (anything there before is removed): the start of a rebuild.</summary>
    public static FasterKeyIndex CreateEmpty(string directory)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
        Directory.CreateDirectory(directory);
        return new FasterKeyIndex(directory, recover: false);
    }

    public void Upsert(uint collection, ReadOnlySpan<byte> key, RowLocation location)
    {
        RequireCollection(collection);
        long value = location.Pack();
        WithKey(collection, key, (Session s, ref SpanByte k) => s.Client.Upsert(ref k, ref value));
    }

    public void UpsertRows(uint collection, IReadOnlyList<byte[]> keys, long segment)
    {
        RequireCollection(collection);
        // One session for the whole run, and no allocation per key: a seal indexes up to a memtable of keys.
        if (!_sessions.TryTake(out Session? session))
        {
            session = NewSession();
        }
        try
        {
            BinaryPrimitives.WriteUInt32BigEndian(session.Buffer, collection);
            for (int row = 0; row < keys.Count; row++)
            {
                byte[] key = keys[row];
                if (key.Length > MaxKeyBytes - 4)
                {
                    throw new ArgumentException($"A key of {key.Length} bytes is longer than the index takes.", nameof(keys));
                }
                key.CopyTo(session.Buffer, 4);
                SpanByte composed = SpanByte.FromFixedSpan(session.Buffer.AsSpan(0, 4 + key.Length));
                long value = new RowLocation(segment, row).Pack();
                session.Client.Upsert(ref composed, ref value);
            }
        }
        finally
        {
            _sessions.Add(session);
        }
    }

    public bool TryGet(uint collection, ReadOnlySpan<byte> key, out RowLocation location)
    {
        RequireCollection(collection);
        bool found = TryGetRaw(Compose(collection, key), out long value);
        location = found ? RowLocation.Unpack(value) : default;
        return found;
    }

    public void Delete(uint collection, ReadOnlySpan<byte> key)
    {
        RequireCollection(collection);
        WithKey(collection, key, (Session s, ref SpanByte k) => s.Client.Delete(ref k));
    }

    public void Checkpoint(long version)
    {
        // FASTER never completes a checkpoint whose write failed for want of space (observed on a full tmpfs: the
        // writer hung in the seal, holding the write lock). So a checkpoint starts only with room for all it writes:
        // the whole hash index and its overflow buckets, the log's mutable region, a page and a margin (the previous
        // checkpoint is removed only after this one is complete).
        long needed = ((_store.IndexSize + _store.OverflowBucketCount) * 64) + (_store.Log.TailAddress - _store.Log.ReadOnlyAddress)
            + _settings.PageSize + CheckpointMarginBytes;
        long free = FreeBytes(_directory);
        if (free < needed)
        {
            throw new DiskFullException(_directory, $"a key-index checkpoint needs about {needed} bytes and {free} are free: not started.");
        }
        long value = version;
        WithRawKey(VersionKey, (Session s, ref SpanByte k) => s.Client.Upsert(ref k, ref value));
        KillPoints.Hit(KillPoints.KeyIndexBeforeCheckpoint);
        (bool success, _) = _store.TakeFullCheckpointAsync(CheckpointType.FoldOver).AsTask().GetAwaiter().GetResult();
        if (!success)
        {
            throw new StorageException(_settings.CheckpointDir ?? "key index", "the key index checkpoint failed.");
        }
        KillPoints.Hit(KillPoints.KeyIndexAfterCheckpoint);
        Version = version;
    }

    // Bytes the file system holding the directory has free for this process (statvfs f_bavail).
    private static long FreeBytes(string directory) => new DriveInfo(directory).AvailableFreeSpace;

    public IEnumerable<KeyIndexEntry> Entries()
    {
        // FASTER's own "distinct live records" iterator (session.Iterate) was seen to return an entry
        // that does not exist (a key with another key's value) once records had newer versions after
        // a checkpoint (2.6.5, SpanByte keys). So: scan the whole log, and keep a record only when a
        // read of its key finds that very record (its key's latest version, not a tombstone).
        using var session = _store.For(new SimpleFunctions<SpanByte, long>()).NewSession<SimpleFunctions<SpanByte, long>>(readCopyOptions: ReadCopyOptions.None);
        byte[] buffer = GC.AllocateArray<byte>(MaxKeyBytes, pinned: true);
        using IFasterScanIterator<SpanByte, long> scan = _store.Log.Scan(_store.Log.BeginAddress, _store.Log.TailAddress);
        while (scan.GetNext(out RecordInfo info))
        {
            if (!info.Tombstone && LatestAt(session, scan, buffer) is { } entry)
            {
                yield return entry;
            }
        }
    }

    // The scan's record as an entry when it is its key's latest version, else null; null too for the version entry (collection 0).
    private static KeyIndexEntry? LatestAt(ClientSession<SpanByte, long, long, long, Empty, SimpleFunctions<SpanByte, long>> session,
        IFasterScanIterator<SpanByte, long> scan, byte[] buffer)
    {
        ReadOnlySpan<byte> composed = scan.GetKey().AsReadOnlySpan();
        if (composed.Length is < 4 or > MaxKeyBytes)
        {
            throw new InvalidDataException($"A key-index record at address {scan.CurrentAddress} has a key of {composed.Length} bytes.");
        }
        uint collection = BinaryPrimitives.ReadUInt32BigEndian(composed);
        if (collection == 0)
        {
            return null;
        }
        long address = scan.CurrentAddress;
        composed.CopyTo(buffer);
        var entryKey = composed[4..].ToArray();
        SpanByte key = SpanByte.FromFixedSpan(buffer.AsSpan(0, composed.Length));
        long input = 0, output = 0;
        ReadOptions options = default; // the session copies no read record to the tail: addresses stay put
        Status status = session.Read(ref key, ref input, ref output, ref options, out RecordMetadata metadata);
        if (status.IsPending)
        {
            session.CompletePendingWithOutputs(out CompletedOutputIterator<SpanByte, long, long, long, Empty> outputs, wait: true);
            using (outputs)
            {
                while (outputs.Next())
                {
                    status = outputs.Current.Status;
                    output = outputs.Current.Output;
                    metadata = outputs.Current.RecordMetadata;
                }
            }
        }
        return status.Found && metadata.Address == address ? new KeyIndexEntry(collection, entryKey, RowLocation.Unpack(output)) : null;
    }

    public void Dispose()
    {
        while (_sessions.TryTake(out Session? session))
        {
            session.Client.Dispose();
        }
        _store.Dispose();
        _settings.Dispose();
    }

    private bool TryGetRaw(byte[] composed, out long value)
    {
        long output = 0;
        bool found = false;
        WithRawKey(composed, (Session s, ref SpanByte k) =>
        {
            Status status = s.Client.Read(ref k, ref output);
            if (status.IsPending)
            {
                s.Client.CompletePendingWithOutputs(out CompletedOutputIterator<SpanByte, long, long, long, Empty> outputs, wait: true);
                using (outputs)
                {
                    while (outputs.Next())
                    {
                        found = outputs.Current.Status.Found;
                        output = outputs.Current.Output;
                    }
                }
            }
            else
            {
                found = status.Found;
            }
        });
        value = output;
        return found;
    }

    private delegate void KeyAction(Session session, ref SpanByte key);

    private void WithKey(uint collection, ReadOnlySpan<byte> key, KeyAction action) => WithRawKey(Compose(collection, key), action);

    // Runs an operation with a pooled session, the composed key copied into its pinned buffer.
    private void WithRawKey(byte[] composed, KeyAction action)
    {
        if (!_sessions.TryTake(out Session? session))
        {
            session = NewSession();
        }
        try
        {
            composed.CopyTo(session.Buffer, 0);
            SpanByte key = SpanByte.FromFixedSpan(session.Buffer.AsSpan(0, composed.Length));
            action(session, ref key);
        }
        finally
        {
            _sessions.Add(session);
        }
    }

    private Session NewSession() => new(_store.For(new SimpleFunctions<SpanByte, long>()).NewSession<SimpleFunctions<SpanByte, long>>());

    private static byte[] Compose(uint collection, ReadOnlySpan<byte> key)
    {
        if (key.Length > MaxKeyBytes - 4)
        {
            throw new ArgumentException($"A key of {key.Length} bytes is longer than the index takes.", nameof(key));
        }
        var composed = new byte[4 + key.Length];
        BinaryPrimitives.WriteUInt32BigEndian(composed, collection);
        key.CopyTo(composed.AsSpan(4));
        return composed;
    }

    private static void RequireCollection(uint collection) =>
        ArgumentOutOfRangeException.ThrowIfZero(collection, nameof(collection));

    private sealed class Session(ClientSession<SpanByte, long, long, long, Empty, SimpleFunctions<SpanByte, long>> client)
    {
        public ClientSession<SpanByte, long, long, long, Empty, SimpleFunctions<SpanByte, long>> Client { get; } = client;

        /// <summary>Pinned, so FASTER may hold a pointer into it while the operation runs.</summary>
        public byte[] Buffer { get; } = GC.AllocateArray<byte>(MaxKeyBytes, pinned: true);
    }
}
