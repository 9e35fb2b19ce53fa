using System.Collections.Immutable;
using HammingDB.Index;
using HammingDB.Keys;
using HammingDB.Storage;
using HammingDB.Storage.Keys;
using HammingDB.Storage.Log;
using HammingDB.Storage.Manifest;
using HammingDB.Storage.Segments;
using HammingDB.Writing;

namespace HammingDB;

/// <summary>
/// A HammingDB database: a directory of named collections of binary codes, persistent and
/// crash-safe. One process writes at a time (a lock file); any number of threads read. Writes are
/// acknowledged once durable in the write-ahead log; rows live in a memtable until they are sealed
/// into immutable, memory-mapped segments.
/// </summary>
public sealed partial class HammingDatabase : IDisposable
{
    private const string KeyIndexDirectory = "keyindex";

    private readonly IFileSystem _fs;
    private readonly string _directory;
    private readonly IDisposable _lock;
    private readonly object _writeGate = new();
    private readonly object _applyGate = new();
    private readonly Dictionary<string, CollectionRuntime> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<uint, CollectionRuntime> _byId = new();
    private ManifestState _manifest;
    private LogWriter _log;
    private Task<IKeyIndex> _keys;
    private string _keyIndexLocation = "key index";
    private volatile Exception? _failure;
    private long _ticketsIssued;
    private long _ticketsApplied;
    private bool _disposed;

    private HammingDatabase(IFileSystem fs, string directory, DatabaseOptions options, IDisposable writerLock, ManifestState manifest, LogWriter log, IKeyIndex keys)
    {
        _fs = fs;
        _directory = directory;
        Options = options;
        _lock = writerLock;
        _manifest = manifest;
        _log = log;
        _keys = Task.FromResult(keys);
    }

    // The key index, once open: a clean open loads (or rebuilds) it in the background, so the first
    // query does not wait for it; writes and lookups by key do.
    private IKeyIndex Keys
    {
        get
        {
            Task<IKeyIndex> keys = _keys;
            if (keys.Status == TaskStatus.Created)
            {
                // Read-only: opened at its first use, on the thread that needs it.
                lock (_keysGate)
                {
                    if (keys.Status == TaskStatus.Created)
                    {
                        keys.RunSynchronously();
                    }
                }
            }
            return keys.IsCompletedSuccessfully ? keys.Result : keys.GetAwaiter().GetResult();
        }
    }

    private readonly object _keysGate = new();

    /// <summary>The options this database runs with.</summary>
    public DatabaseOptions Options { get; }

    /// <summary>The directory holding the database.</summary>
    public string Path => _directory;

    /// <summary>The collections, in creation order.</summary>
    public IReadOnlyList<string> CollectionNames
    {
        get
        {
            lock (_writeGate)
            {
                return _manifest.Collections.Select(c => c.Name).ToList();
            }
        }
    }

    /// <summary>The collections and what they hold, in creation order.</summary>
    public IReadOnlyList<CollectionInfo> Collections
    {
        get
        {
            lock (_writeGate)
            {
                return _manifest.Collections.Select(c => new CollectionInfo(c.Name, c.CodeBits, KeyTypeOf(c.KeyKind), c.HasPayloads, c.VectorDimension)
                {
                    VectorStorage = (VectorStorage)c.VectorKind,
                }).ToList();
            }
        }
    }

    private static Type KeyTypeOf(KeyKind kind) => kind switch
    {
        KeyKind.UInt64 => typeof(ulong),
        KeyKind.String => typeof(string),
        KeyKind.Guid => typeof(Guid),
        _ => throw new InvalidOperationException($"Unknown key kind {kind}."),
    };

    /// <summary>
    /// Opens the database in <paramref name="path"/>, creating it when the directory holds none.
    /// After a crash, replays the write-ahead log: every acknowledged write is there.
    /// </summary>
    /// <exception cref="StorageException">Another process has the database open for writing, or a file cannot be read or written.</exception>
    /// <exception cref="CorruptionException">A file of the database is damaged (the message names it and the offset).</exception>
    public static HammingDatabase Open(string path, DatabaseOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string directory = System.IO.Path.GetFullPath(path);
        return Open(PosixFileSystem.Instance, directory, options ?? DatabaseOptions.Default, new FasterKeyIndexStore(System.IO.Path.Combine(directory, KeyIndexDirectory)));
    }

    internal static HammingDatabase Open(IFileSystem fs, string directory, DatabaseOptions options, IKeyIndexStore keyIndexStore)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.SealRows, nameof(options));
        if (options.ReadOnly)
        {
            return OpenReadOnly(fs, directory, options, keyIndexStore);
        }
        fs.CreateDirectory(directory);
        IDisposable writerLock = fs.LockExclusive(System.IO.Path.Combine(directory, FileNames.Lock));
        var opened = new List<IDisposable> { writerLock };
        try
        {
            ManifestState? manifest = ManifestStore.Read(fs, directory);
            LogWriter? log = null;
            if (manifest is null)
            {
                RefuseFilesWithoutManifest(fs, directory);
                log = LogWriter.Create(fs, directory, 1);
                opened.Add(log);
                manifest = new ManifestState(1, 2, 1, []);
                ManifestStore.Write(fs, directory, manifest);
            }
            var database = new HammingDatabase(fs, directory, options, writerLock, manifest, log!, null!);
            database.Recover(log, opened, keyIndexStore);
            return database;
        }
        catch
        {
            DisposeAll(opened);
            throw;
        }
    }

    // Read-only: a shared hold of the lock file (none when there is no lock file: only a writer creates it), then
    // the same recovery in memory only. Nothing is created, written, cut or removed, here or at Dispose.
    private static HammingDatabase OpenReadOnly(IFileSystem fs, string directory, DatabaseOptions options, IKeyIndexStore keyIndexStore)
    {
        string manifestPath = System.IO.Path.Combine(directory, FileNames.Manifest);
        if (!fs.FileExists(manifestPath))
        {
            throw new StorageException(directory, "no database here (no MANIFEST); a read-only open creates none.");
        }
        IDisposable? readerLock = fs.LockShared(System.IO.Path.Combine(directory, FileNames.Lock));
        var opened = new List<IDisposable>();
        if (readerLock is not null)
        {
            opened.Add(readerLock);
        }
        try
        {
            ManifestState manifest = ManifestStore.Read(fs, directory)
                ?? throw new StorageException(directory, "no database here (no MANIFEST); a read-only open creates none.");
            var database = new HammingDatabase(fs, directory, options, readerLock ?? new NoLock(), manifest, null!, null!);
            database.Recover(null, opened, keyIndexStore);
            return database;
        }
        catch
        {
            DisposeAll(opened);
            throw;
        }
    }

    // What an open that failed had opened, newest first.
    private static void DisposeAll(List<IDisposable> opened)
    {
        foreach (IDisposable resource in Enumerable.Reverse(opened))
        {
            resource.Dispose();
        }
    }

    private sealed class NoLock : IDisposable
    {
        public void Dispose()
        {
        }
    }

    // A new database is made only where no data is: without a MANIFEST, segments, deletion bitmaps, a
    // log other than the first, or a first log holding records (a crash during creation leaves it
    // empty: no write can be made before the MANIFEST exists) mean the MANIFEST was lost, and
    // starting afresh would delete them as orphans.
    private static void RefuseFilesWithoutManifest(IFileSystem fs, string directory)
    {
        List<string> data = fs.ListFiles(directory)
            .Where(name => FileNames.TryParseSegment(name, out _) || FileNames.TryParseDeletions(name, out _, out _) || FileNames.TryParseAttachment(name, out _)
                || (FileNames.TryParseLog(name, out long number) && (number != 1 || HoldsRecords(fs, System.IO.Path.Combine(directory, name)))))
            .Order(StringComparer.Ordinal).ToList();
        if (data.Count > 0)
        {
            throw new CorruptionException(System.IO.Path.Combine(directory, FileNames.Manifest), -1,
                $"the MANIFEST is missing while {data.Count} data file(s) are present ({string.Join(", ", data.Take(5))}{(data.Count > 5 ? ", ..." : "")}); " +
                "refusing to create a new database over them");
        }
    }

    private static bool HoldsRecords(IFileSystem fs, string path)
    {
        try
        {
            using IStorageFile file = fs.Open(path, writable: false);
            return LogReader.Read(file).Records.Count > 0;
        }
        catch (CorruptionException)
        {
            return false; // a header never completed: the crash came before the first log was in place
        }
    }

    // Opens segments and deletion bitmaps, the key index (rebuilt if behind the manifest), replays the log,
    // and removes every file the manifest does not name. Read-only: the log is replayed into memory only (a torn
    // tail stays, unread), the key index is a copy or a scratch rebuild, and no file is removed.
    private void Recover(LogWriter? newLog, List<IDisposable> opened, IKeyIndexStore keyIndexStore)
    {
        foreach (CollectionState definition in _manifest.Collections)
        {
            var views = ImmutableArray.CreateBuilder<SegmentView>();
            foreach (SegmentState segment in definition.Segments)
            {
                SegmentReader reader = SegmentReader.Open(_fs, SegmentPath(segment.FileNumber), verifyMihTables: false);
                opened.Add(reader);
                DeletionBitmap deleted = segment.DeletionVersion > 0
                    ? DeletionBitmap.Read(_fs, _directory, segment.FileNumber, segment.DeletionVersion, segment.Rows)
                    : new DeletionBitmap(segment.Rows);
                if (reader.Rows != segment.Rows || reader.Layout.CodeBits != definition.CodeBits || reader.KeyKind != definition.KeyKind)
                {
                    throw new CorruptionException(reader.Path, 0, $"the segment does not match the manifest's collection '{definition.Name}'");
                }
                if (deleted.DeletedRows != segment.DeletedRows)
                {
                    throw segment.DeletionVersion > 0
                        ? new CorruptionException(System.IO.Path.Combine(_directory, FileNames.Deletions(segment.FileNumber, segment.DeletionVersion)), 24,
                            $"the bitmap holds {deleted.DeletedRows} deleted rows; the manifest says {segment.DeletedRows}")
                        : new CorruptionException(System.IO.Path.Combine(_directory, FileNames.Manifest), ManifestStore.HeaderBytes,
                            $"segment {segment.FileNumber} has no deletion bitmap, yet {segment.DeletedRows} deleted rows");
                }
                views.Add(new SegmentView(NewHandle(segment.FileNumber, reader), deleted, segment.DeletionVersion, []));
            }
            AddRuntime(new CollectionRuntime(definition, NewMemtable(definition), views.ToImmutable()));
        }

        string logPath = System.IO.Path.Combine(_directory, FileNames.Log(_manifest.LogNumber));
        LogContents? contents = null;
        if (newLog is null)
        {
            using IStorageFile file = _fs.Open(logPath, writable: false);
            contents = LogReader.Read(file);
            // A torn tail is cut off below; damage followed by acknowledged records is not.
            if (contents.TailProblem is not null && LogReader.FindRecordAfter(file, contents.ValidLength, IsBatchStart) is long next)
            {
                throw new CorruptionException(logPath, contents.ValidLength,
                    $"{contents.TailProblem}, and a whole record follows at offset {next}: the log is damaged, not torn, and cutting it there would lose acknowledged writes");
            }
        }
        _keyIndexLocation = keyIndexStore.Location;
        bool readOnly = Options.ReadOnly;
        if (contents is { Records.Count: > 0 })
        {
            // Replaying needs the index (an upsert may supersede a sealed row).
            _keys = Task.FromResult(readOnly ? OpenKeyIndexReadOnly(keyIndexStore, _manifest.Version, SegmentsNow()) : OpenKeyIndex(keyIndexStore, _manifest.Version, SegmentsNow()));
            opened.Add(Keys);
        }
        else
        {
            // Nothing to replay: open it in the background. Closed by Dispose, or below if the open fails.
            // It reads only what is captured now: the version and the collections' segments at open.
            long version = _manifest.Version;
            List<(uint, ImmutableArray<SegmentView>)> segments = SegmentsNow();
            // Read-only, it is a copy (or a rebuild) of the stored index, only worth making for a key lookup: it is
            // made at the first one (searches read keys from the segments).
            _keys = readOnly
                ? new Task<IKeyIndex>(() => OpenKeyIndexReadOnly(keyIndexStore, version, segments))
                : Task.Run(() => OpenKeyIndex(keyIndexStore, version, segments));
            opened.Add(new KeyIndexCloser(_keys));
        }

        if (contents is not null)
        {
            foreach (LogRecord record in contents.Records)
            {
                Replay(record, logPath);
            }
            if (readOnly)
            {
                return; // no log writer, and no file removed
            }
            newLog = LogWriter.Reopen(_fs, logPath, contents);
            opened.Add(newLog);
        }
        _log = newLog!; // a new database's log, or the one reopened above
        RemoveUnnamedFiles();
    }

    private List<(uint, ImmutableArray<SegmentView>)> SegmentsNow() => [.. _byId.Values.Select(c => (c.Definition.Id, c.Segments))];

    // Opens the key index; rebuilds it from the given segments (those of the manifest at version) when it is behind.
    // Nothing unmaps those segments meanwhile: retiring one needs the index first.
    private static IKeyIndex OpenKeyIndex(IKeyIndexStore store, long version, List<(uint Id, ImmutableArray<SegmentView> Segments)> collections)
    {
        IKeyIndex? opened = null;
        try
        {
            opened = store.Open();
        }
#pragma warning disable CA1031 // derived data: whatever stops its recovery (FASTER itself skips unreadable checkpoints; this covers the rest, e.g. I/O errors), it is rebuilt
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        if (opened is not null && opened.Version == version)
        {
            return opened;
        }
        // Unreadable, behind the manifest (a crash between a switch and the checkpoint), or new: rebuild it from the segments.
        opened?.Dispose();
        IKeyIndex index = store.CreateEmpty();
        Fill(index, collections);
        CheckpointKeys(index, version);
        return index;
    }

    // Checkpoints the key index as matching manifest version. It is derived data: when the disk has no room for the
    // checkpoint (refused before it starts, nothing changed), the index in memory stays right, the stored one stays
    // behind the manifest, and the next open rebuilds it; the database goes on.
    private static void CheckpointKeys(IKeyIndex index, long version)
    {
        try
        {
            index.Checkpoint(version);
        }
        catch (DiskFullException)
        {
        }
    }

    // Read-only: a recovered copy of the stored index when it matches the manifest, else one rebuilt in scratch
    // space (never checkpointed): the database directory is not touched either way.
    private static IKeyIndex OpenKeyIndexReadOnly(IKeyIndexStore store, long version, List<(uint Id, ImmutableArray<SegmentView> Segments)> collections)
    {
        IKeyIndex? copy = null;
        try
        {
            copy = store.OpenCopy();
        }
#pragma warning disable CA1031 // derived data, as in OpenKeyIndex: whatever stops the copy's recovery (e.g. no space for the copy), it is rebuilt
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        if (copy is not null && copy.Version == version)
        {
            return copy;
        }
        copy?.Dispose();
        IKeyIndex index = store.CreateScratch();
        try
        {
            Fill(index, collections);
        }
        catch
        {
            index.Dispose();
            throw;
        }
        return index;
    }

    // Points every live key of the segments at its row.
    private static void Fill(IKeyIndex index, List<(uint Id, ImmutableArray<SegmentView> Segments)> collections)
    {
        foreach ((uint id, ImmutableArray<SegmentView> segments) in collections)
        {
            foreach (SegmentView segment in segments)
            {
                int row = 0;
                foreach (byte[] key in segment.Reader.AllKeys())
                {
                    if (segment.IsLive(row))
                    {
                        index.Upsert(id, key, new RowLocation(segment.FileNumber, row));
                    }
                    row++;
                }
            }
        }
    }

    private void Replay(LogRecord record, string logPath)
    {
        if (record.Type != WriteBatch.RecordType)
        {
            throw new CorruptionException(logPath, record.Offset, $"record type {record.Type} is unknown");
        }
        uint id = WriteBatch.PeekCollection(record.Payload.Span, logPath, record.Offset);
        if (!_byId.TryGetValue(id, out CollectionRuntime? collection))
        {
            throw new CorruptionException(logPath, record.Offset, $"a batch names collection {id}, which the manifest does not have");
        }
        List<BatchEntry> entries = WriteBatch.Decode(record.Payload.Span, collection.Shape, logPath, record.Offset);
        foreach (BatchEntry entry in entries)
        {
            if (KeyBytes.Problem(collection.Definition.KeyKind, entry.Key) is { } problem)
            {
                throw new CorruptionException(logPath, record.Offset, $"a key of collection '{collection.Definition.Name}' {problem}");
            }
        }
        foreach (BatchEntry entry in entries)
        {
            ApplyEntry(collection, entry);
        }
    }

    // Whether a record found past a damaged one could be a batch of this database (before its checksum is computed).
    private bool IsBatchStart(byte type, ReadOnlySpan<byte> payload) =>
        WriteBatch.LooksLikeStart(type, payload) && _byId.ContainsKey(WriteBatch.PeekCollection(payload, "", 0));

    private void RemoveUnnamedFiles()
    {
        var live = new HashSet<string>(StringComparer.Ordinal) { FileNames.Lock, FileNames.Manifest, FileNames.Log(_manifest.LogNumber) };
        foreach (SegmentState segment in _manifest.Collections.SelectMany(c => c.Segments))
        {
            live.Add(FileNames.Segment(segment.FileNumber));
            if (segment.DeletionVersion > 0)
            {
                live.Add(FileNames.Deletions(segment.FileNumber, segment.DeletionVersion));
            }
        }
        foreach (AttachmentState attachment in _manifest.Collections.SelectMany(c => c.Attachments))
        {
            live.Add(FileNames.Attachment(attachment.FileNumber));
        }
        foreach (string name in _fs.ListFiles(_directory))
        {
            bool ours = FileNames.IsDataFile(name);
            if (ours && !live.Contains(name))
            {
                _fs.Delete(System.IO.Path.Combine(_directory, name));
            }
        }
    }

    /// <summary>Creates a collection keyed by <typeparamref name="TKey"/> (<c>ulong</c>, <c>string</c> or <c>Guid</c>).</summary>
    /// <exception cref="ArgumentException">The name is taken or empty, or the options are invalid.</exception>
    /// <exception cref="ReadOnlyDatabaseException">The database is open read-only.</exception>
    public HammingCollection<TKey> CreateCollection<TKey>(string name, CollectionOptions options)
        where TKey : notnull
    {
        ThrowIfReadOnly(nameof(CreateCollection));
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        if (!KeyCodecFor<TKey>.IsSupported)
        {
            throw new ArgumentException($"Keys of type {typeof(TKey).Name} are not supported; use ulong, string or Guid.", nameof(TKey));
        }
        _ = new Kernels.CodeLayout(options.CodeBits);
        ArgumentOutOfRangeException.ThrowIfNegative(options.VectorDimension, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.VectorDimension, 1 << 16, nameof(options));
        if (!Enum.IsDefined(options.VectorStorage))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.VectorStorage, "The vector storage is unknown.");
        }
        lock (_writeGate)
        {
            ThrowIfUnusable();
            if (_byName.ContainsKey(name))
            {
                throw new ArgumentException($"A collection named '{name}' exists already.", nameof(name));
            }
            uint id = _manifest.Collections.Count == 0 ? 1 : _manifest.Collections.Max(c => c.Id) + 1;
            var definition = new CollectionState(id, name, options.CodeBits, KeyCodecFor<TKey>.Kind, options.Payloads, options.VectorDimension, [])
            {
                VectorKind = options.VectorStorage == VectorStorage.Int8 ? VectorKind.Int8 : VectorKind.Float32,
            };
            var next = _manifest with { Version = _manifest.Version + 1, Collections = [.. _manifest.Collections, definition] };
            ManifestStore.Write(_fs, _directory, next);
            _manifest = next;
            CheckpointKeys(Keys, next.Version);
            AddRuntime(new CollectionRuntime(definition, NewMemtable(definition), []));
            return new HammingCollection<TKey>(this, _byId[id]);
        }
    }

    /// <summary>The collection named <paramref name="name"/>, keyed by <typeparamref name="TKey"/>.</summary>
    /// <exception cref="KeyNotFoundException">No collection has that name.</exception>
    /// <exception cref="ArgumentException">The collection's keys are of another type.</exception>
    public HammingCollection<TKey> GetCollection<TKey>(string name)
        where TKey : notnull
    {
        lock (_writeGate)
        {
            ThrowIfUnusable();
            if (!_byName.TryGetValue(name, out CollectionRuntime? collection))
            {
                throw new KeyNotFoundException($"No collection is named '{name}'.");
            }
            if (collection.Definition.KeyKind != KeyCodecFor<TKey>.Kind)
            {
                throw new ArgumentException($"Collection '{name}' is keyed by {collection.Definition.KeyKind}, not {typeof(TKey).Name}.", nameof(TKey));
            }
            return new HammingCollection<TKey>(this, collection);
        }
    }

    /// <summary>Closes the database. Everything acknowledged is in the log; nothing more needs to be written.</summary>
    public void Dispose()
    {
        StopBackgroundCompaction();
        lock (_writeGate)
        {
            if (_disposed)
            {
                return;
            }
            try
            {
                DrainLocked();
                // A clean close seals the memtables, so the next open maps segments and replays nothing (never read-only).
                if (Options.SealOnClose && !Options.ReadOnly && _failure is null && _byId.Values.Any(c => c.Memtable.Rows > 0))
                {
                    SealLocked();
                }
            }
#pragma warning disable CA1031 // everything is in the log already: a failed seal at close loses nothing, and Dispose must close the files
            catch (Exception)
#pragma warning restore CA1031
            {
                // Stopped after a failed write, or the seal failed: the log holds every acknowledged write.
            }
            _disposed = true;
            if (!Options.ReadOnly)
            {
                _log.Dispose();
            }
            new KeyIndexCloser(_keys).Dispose();
            // Background work on the mapped files (table checks, calibrations) ends before they are unmapped.
            foreach (CollectionRuntime collection in _byId.Values)
            {
                collection.WaitForCalibration();
            }
            foreach (SegmentView segment in _byId.Values.SelectMany(c => c.Segments))
            {
                segment.Handle.WaitForTables();
                segment.Reader.Dispose();
            }
            foreach (SegmentHandle retired in _retired.Keys)
            {
                if (_retired.TryRemove(retired, out _))
                {
                    retired.WaitForTables();
                    retired.Reader.Dispose();
                }
            }
            _lock.Dispose();
        }
    }

    // Disposes the key index when its (background) open has finished, whether or not it succeeded.
    private sealed class KeyIndexCloser(Task<IKeyIndex> keys) : IDisposable
    {
        public void Dispose()
        {
            if (keys.Status == TaskStatus.Created)
            {
                return; // never opened
            }
            try
            {
                keys.GetAwaiter().GetResult().Dispose();
            }
#pragma warning disable CA1031 // a key index that failed to open has nothing to close; the error surfaces on first use
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    // Segments retired by compaction and still read by a search: closed at Dispose if still open then.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<SegmentHandle, bool> _retired = new();

    private SegmentHandle NewHandle(long fileNumber, SegmentReader reader) => new(fileNumber, reader, handle =>
    {
        // The last reference of a retired segment: unmap it, then delete its file (the manifest no longer names it).
        if (_retired.TryRemove(handle, out _))
        {
            handle.Reader.Dispose();
            _fs.Delete(SegmentPath(handle.FileNumber));
        }
    });

    private void AddRuntime(CollectionRuntime runtime)
    {
        _byName[runtime.Definition.Name] = runtime;
        _byId[runtime.Definition.Id] = runtime;
    }

    private static Memtable NewMemtable(CollectionState definition) =>
        new(new Kernels.CodeLayout(definition.CodeBits), definition.KeyKind, definition.HasPayloads, definition.VectorDimension);

    private string SegmentPath(long fileNumber) => System.IO.Path.Combine(_directory, FileNames.Segment(fileNumber));

    internal void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfFailed();
    }

    /// <summary>Refuses <paramref name="operation"/>, a write, when the database is open read-only.</summary>
    internal void ThrowIfReadOnly(string operation)
    {
        if (Options.ReadOnly)
        {
            throw new ReadOnlyDatabaseException(_directory, operation);
        }
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure)
        {
            const string Message = "the database stopped after a failed write; reopen it to recover.";
            // A full disk stays a DiskFullException: free space (or delete rows and compact after a reopen), then write again.
            throw IsDiskFull(failure)
                ? new DiskFullException(_directory, Message + " No space was left on the device.", failure)
                : new StorageException(_directory, Message, failure);
        }
    }

    private static bool IsDiskFull(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is DiskFullException)
            {
                return true;
            }
        }
        return false;
    }
}
