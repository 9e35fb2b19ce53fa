namespace HammingDB.Storage;

/// <summary>
/// An in-memory file system, for storage tests and fault-injection suites. It keeps, for every file, what was written and
/// what was synced, and for every directory which names were synced: <see cref="Crash"/> then
/// forgets everything never synced, as a power loss would.
/// <para>
/// Every I/O call is counted by kind (<see cref="Kinds"/>: mkdir, list, create, open, read, write, setlength, sync, map,
/// rename, delete, syncdir) and in total (<see cref="TotalCalls"/>). Metadata queries (a file's length,
/// <see cref="FileExists"/>), taking the writer lock and closing a file are not I/O calls here: they are no fault points.
/// <see cref="FailOn"/> fails the N-th call of one kind, <see cref="FailAny"/> the N-th call of any kind; once, or that
/// call and every later one (of that kind, or of any kind). A fault is an EIO (<see cref="StorageException"/>) or an
/// ENOSPC (<see cref="DiskFullException"/>); ENOSPC is raised only by the calls that can run out of space (mkdir,
/// create, write, setlength, sync, syncdir, rename: a directory may have to grow), the others fail with EIO instead.
/// A failed call changes nothing, except a failed write, which leaves the first half of its bytes written (unsynced),
/// as a short write before the error would.
/// </para>
/// </summary>
internal sealed class MemoryFileSystem : IFileSystem
{
    /// <summary>The kinds of I/O call counted, in no particular order.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["mkdir", "list", "create", "open", "read", "write", "setlength", "sync", "map", "rename", "delete", "syncdir"];

    private static readonly HashSet<string> NoSpaceKinds = new(["mkdir", "create", "write", "setlength", "sync", "syncdir", "rename"], StringComparer.Ordinal);

    private readonly object _gate = new();
    private readonly Dictionary<string, Node> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Node> _durableEntries = new(StringComparer.Ordinal);
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal);
    private readonly HashSet<string> _locks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _sharedLocks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly List<InjectedFault> _fired = [];
    private int _totalCalls;
    private Fault? _fault;

    /// <summary>How long each file sync takes (to let group commit gather writers).</summary>
    public TimeSpan SyncDelay { get; set; }

    /// <summary>Calls of <paramref name="kind"/> so far.</summary>
    public int Calls(string kind)
    {
        lock (_gate)
        {
            return _calls.GetValueOrDefault(kind);
        }
    }

    /// <summary>I/O calls of every kind so far.</summary>
    public int TotalCalls
    {
        get
        {
            lock (_gate)
            {
                return _totalCalls;
            }
        }
    }

    /// <summary>The faults injected so far, in order (a fault that fails forever counts once per failed call).</summary>
    public IReadOnlyList<InjectedFault> Fired
    {
        get
        {
            lock (_gate)
            {
                return [.. _fired];
            }
        }
    }

    /// <summary>The <paramref name="nth"/> call of <paramref name="kind"/> from now on fails (and every later one of that kind if <paramref name="forever"/>).</summary>
    public void FailOn(string kind, int nth, bool forever = false, InjectedError error = InjectedError.Io)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nth);
        lock (_gate)
        {
            _fault = new Fault(kind, Calls(kind) + nth, forever, error);
        }
    }

    /// <summary>The <paramref name="nth"/> I/O call of any kind from now on fails (and every later call of any kind if <paramref name="forever"/>).</summary>
    public void FailAny(int nth, bool forever = false, InjectedError error = InjectedError.Io)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nth);
        lock (_gate)
        {
            _fault = new Fault(null, _totalCalls + nth, forever, error);
        }
    }

    /// <summary>Removes any fault not yet fired (or failing forever).</summary>
    public void Disarm()
    {
        lock (_gate)
        {
            _fault = null;
        }
    }

    /// <summary>
    /// Power loss: every file goes back to its synced bytes, every directory to its synced names.
    /// With <paramref name="tear"/>, a file whose synced bytes are a prefix of what was written keeps
    /// a random part of the unsynced rest (a torn tail).
    /// </summary>
    public void Crash(Random? tear = null)
    {
        lock (_gate)
        {
            _entries.Clear();
            foreach (var (path, node) in _durableEntries)
            {
                int keep = 0;
                if (tear is not null && node.Data.Length > node.Durable.Length && node.Data.AsSpan(0, node.Durable.Length).SequenceEqual(node.Durable))
                {
                    keep = tear.Next(node.Data.Length - node.Durable.Length + 1);
                }
                node.Data = node.Data.AsSpan(0, node.Durable.Length + keep).ToArray();
                node.Durable = node.Data.ToArray();
                _entries[path] = node;
            }
            _locks.Clear();
            _sharedLocks.Clear();
        }
    }

    public byte[] ReadAllBytes(string path)
    {
        lock (_gate)
        {
            return _entries[path].Data.ToArray();
        }
    }

    /// <summary>
    /// A separate file system holding every file and directory as they are now, all of it durable: what a process
    /// killed now leaves (the kernel keeps what was written). With <paramref name="powerLoss"/>, what a power loss now
    /// leaves instead: only synced bytes and synced names (this file system is not changed).
    /// </summary>
    public MemoryFileSystem Clone(bool powerLoss = false)
    {
        lock (_gate)
        {
            var copy = new MemoryFileSystem();
            copy._directories.UnionWith(_directories);
            foreach (var (path, node) in powerLoss ? _durableEntries : _entries)
            {
                byte[] bytes = powerLoss ? node.Durable : node.Data;
                var copied = new Node { Data = bytes.ToArray(), Durable = bytes.ToArray() };
                copy._entries[path] = copied;
                copy._durableEntries[path] = copied;
            }
            return copy;
        }
    }

    /// <summary>Overwrites a file's bytes, current and synced (to plant damage).</summary>
    public void Replace(string path, byte[] bytes)
    {
        lock (_gate)
        {
            Node node = _entries[path];
            node.Data = bytes.ToArray();
            node.Durable = bytes.ToArray();
        }
    }

    public IStorageFile Create(string path)
    {
        lock (_gate)
        {
            Count("create", path);
            if (_entries.ContainsKey(path))
            {
                throw new StorageException(path, "exists");
            }
            var node = new Node();
            _entries[path] = node;
            return new MemoryFile(this, path, node);
        }
    }

    public IStorageFile Open(string path, bool writable)
    {
        lock (_gate)
        {
            Count("open", path);
            return _entries.TryGetValue(path, out Node? node) ? new MemoryFile(this, path, node) : throw new StorageException(path, "no such file");
        }
    }

    public void Rename(string source, string destination)
    {
        lock (_gate)
        {
            Count("rename", source);
            if (!_entries.Remove(source, out Node? node))
            {
                throw new StorageException(source, "no such file");
            }
            _entries[destination] = node;
        }
    }

    public void Delete(string path)
    {
        lock (_gate)
        {
            Count("delete", path);
            _entries.Remove(path);
        }
    }

    public void SyncDirectory(string directory)
    {
        lock (_gate)
        {
            Count("syncdir", directory);
            foreach (string path in _durableEntries.Keys.Where(p => Path.GetDirectoryName(p) == directory).ToList())
            {
                _durableEntries.Remove(path);
            }
            foreach (var (path, node) in _entries.Where(e => Path.GetDirectoryName(e.Key) == directory))
            {
                _durableEntries[path] = node;
            }
        }
    }

    public bool FileExists(string path)
    {
        lock (_gate)
        {
            return _entries.ContainsKey(path);
        }
    }

    public IReadOnlyList<string> ListFiles(string directory)
    {
        lock (_gate)
        {
            Count("list", directory);
            return _entries.Keys.Where(p => Path.GetDirectoryName(p) == directory).Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal).ToList();
        }
    }

    public void CreateDirectory(string path)
    {
        lock (_gate)
        {
            Count("mkdir", path);
            _directories.Add(path);
        }
    }

    public IDisposable LockExclusive(string path)
    {
        lock (_gate)
        {
            if (_sharedLocks.GetValueOrDefault(path) > 0)
            {
                throw new StorageException(path, "the database is locked by another writer or reader; only one process may write at a time.");
            }
            if (!_locks.Add(path))
            {
                throw new StorageException(path, "the database is locked by another writer; only one process may write at a time.");
            }
            // The lock file is created if absent, as on the real file system (not counted as a create: it is no fault point).
            _entries.TryAdd(path, new Node());
            return new Releaser(() =>
            {
                lock (_gate)
                {
                    _locks.Remove(path);
                }
            });
        }
    }

    public IDisposable? LockShared(string path)
    {
        lock (_gate)
        {
            if (!_entries.ContainsKey(path))
            {
                return null;
            }
            if (_locks.Contains(path))
            {
                throw new StorageException(path, "the database is locked by another writer; it cannot be read meanwhile.");
            }
            _sharedLocks[path] = _sharedLocks.GetValueOrDefault(path) + 1;
            return new Releaser(() =>
            {
                lock (_gate)
                {
                    _sharedLocks[path]--;
                }
            });
        }
    }

    private void Count(string kind, string path)
    {
        int n = _calls[kind] = _calls.GetValueOrDefault(kind) + 1;
        int total = ++_totalCalls;
        if (_fault is not { } fault)
        {
            return;
        }
        int at = fault.Kind is null ? total : fault.Kind == kind ? n : 0;
        if (at == fault.Nth || (fault.Forever && at > fault.Nth))
        {
            bool noSpace = fault.Error == InjectedError.NoSpace && NoSpaceKinds.Contains(kind);
            _fired.Add(new InjectedFault(kind, path, total, noSpace ? InjectedError.NoSpace : InjectedError.Io));
            throw noSpace
                ? new DiskFullException(path, $"injected failure of {kind} call {n} (I/O call {total}): no space left on device (ENOSPC)")
                : new StorageException(path, $"injected failure of {kind} call {n} (I/O call {total}): input/output error (EIO)");
        }
    }

    private sealed record Fault(string? Kind, int Nth, bool Forever, InjectedError Error);

    private sealed class Node
    {
        public byte[] Data = [];
        public byte[] Durable = [];
    }

    private sealed class Releaser(Action release) : IDisposable
    {
        public void Dispose() => release();
    }

    private sealed class MemoryFile(MemoryFileSystem fs, string path, Node node) : IStorageFile
    {
        public string Path { get; } = path;

        public long Length
        {
            get
            {
                lock (fs._gate)
                {
                    return node.Data.Length;
                }
            }
        }

        public int Read(long offset, Span<byte> buffer)
        {
            lock (fs._gate)
            {
                fs.Count("read", Path);
                int n = (int)Math.Max(0, Math.Min(buffer.Length, node.Data.Length - offset));
                node.Data.AsSpan((int)offset, n).CopyTo(buffer);
                return n;
            }
        }

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            lock (fs._gate)
            {
                try
                {
                    fs.Count("write", Path);
                }
                catch (StorageException)
                {
                    // A short write before the error: the first half of the bytes reach the file.
                    Put(offset, data[..(data.Length / 2)]);
                    throw;
                }
                Put(offset, data);
            }
        }

        // Under the gate.
        private void Put(long offset, ReadOnlySpan<byte> data)
        {
            long end = offset + data.Length;
            if (end > node.Data.Length)
            {
                byte[] grown = new byte[end];
                node.Data.CopyTo(grown, 0);
                node.Data = grown;
            }
            data.CopyTo(node.Data.AsSpan((int)offset));
        }

        public void SetLength(long length)
        {
            lock (fs._gate)
            {
                fs.Count("setlength", Path);
                byte[] resized = new byte[length];
                node.Data.AsSpan(0, (int)Math.Min(length, node.Data.Length)).CopyTo(resized);
                node.Data = resized;
            }
        }

        public void Sync()
        {
            if (fs.SyncDelay > TimeSpan.Zero)
            {
                Thread.Sleep(fs.SyncDelay);
            }
            lock (fs._gate)
            {
                fs.Count("sync", Path);
                node.Durable = node.Data.ToArray();
            }
        }

        public MappedRegion MapReadOnly()
        {
            lock (fs._gate)
            {
                fs.Count("map", Path);
                return new CopiedRegion(node.Data);
            }
        }

        public void Dispose()
        {
        }
    }

    /// <summary>A "mapping" of a memory file: a 64-byte-aligned pinned copy of its bytes.</summary>
    private sealed unsafe class CopiedRegion : MappedRegion
    {
        private readonly byte[] _storage;
        private readonly byte* _pointer;

        public CopiedRegion(byte[] data)
        {
            _storage = GC.AllocateArray<byte>(data.Length + 64, pinned: true);
            fixed (byte* start = _storage)
            {
                _pointer = (byte*)(((nint)start + 63) & ~(nint)63);
            }
            data.CopyTo(new Span<byte>(_pointer, data.Length));
            Length = data.Length;
        }

        public override byte* Pointer => _pointer;

        public override long Length { get; }

        public override void Dispose() => GC.KeepAlive(_storage);
    }
}

/// <summary>The error an injected fault raises.</summary>
internal enum InjectedError
{
    /// <summary>EIO: a <see cref="StorageException"/>.</summary>
    Io,

    /// <summary>ENOSPC: a <see cref="DiskFullException"/> (EIO for calls that cannot run out of space).</summary>
    NoSpace,
}

/// <summary>One injected failure: the kind of call, its path, its number among all I/O calls, and the error raised.</summary>
internal sealed record InjectedFault(string Kind, string Path, int Call, InjectedError Error);
