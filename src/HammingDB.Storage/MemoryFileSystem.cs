namespace HammingDB.Storage;

/// <summary>
/// An in-memory file system, for storage tests and fault-injection suites. It keeps, for every file, what was written and
/// what was synced, and for every directory which names were synced: <see cref="Crash"/> then
/// forgets everything never synced, as a power loss would. <see cref="FailOn"/> makes the N-th
/// call of one kind (create, write, sync, rename, delete, syncdir) fail, once or from then on.
/// </summary>
internal sealed class MemoryFileSystem : IFileSystem
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Node> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Node> _durableEntries = new(StringComparer.Ordinal);
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal);
    private readonly HashSet<string> _locks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _sharedLocks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _calls = new(StringComparer.Ordinal);
    private (string Kind, int Nth, bool Forever)? _fault;

    /// <summary>How long each file sync takes (to let group commit gather writers).</summary>
    public TimeSpan SyncDelay { get; set; }

    public int Calls(string kind)
    {
        lock (_gate)
        {
            return _calls.GetValueOrDefault(kind);
        }
    }

    /// <summary>The <paramref name="nth"/> call of <paramref name="kind"/> from now on fails (and every later one if <paramref name="forever"/>).</summary>
    public void FailOn(string kind, int nth, bool forever = false)
    {
        lock (_gate)
        {
            _fault = (kind, Calls(kind) + nth, forever);
        }
    }

    /// <summary>Removes any fault not yet fired.</summary>
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

    /// <summary>A separate file system holding every file and directory as they are now, all of it durable.</summary>
    public MemoryFileSystem Clone()
    {
        lock (_gate)
        {
            var copy = new MemoryFileSystem();
            copy._directories.UnionWith(_directories);
            foreach (var (path, node) in _entries)
            {
                var copied = new Node { Data = node.Data.ToArray(), Durable = node.Data.ToArray() };
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
            return _entries.Keys.Where(p => Path.GetDirectoryName(p) == directory).Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal).ToList();
        }
    }

    public void CreateDirectory(string path)
    {
        lock (_gate)
        {
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
        if (_fault is { } fault && fault.Kind == kind && (n == fault.Nth || (fault.Forever && n > fault.Nth)))
        {
            throw new StorageException(path, $"injected failure of {kind} call {n} (EIO)");
        }
    }

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
                int n = (int)Math.Max(0, Math.Min(buffer.Length, node.Data.Length - offset));
                node.Data.AsSpan((int)offset, n).CopyTo(buffer);
                return n;
            }
        }

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            lock (fs._gate)
            {
                fs.Count("write", Path);
                long end = offset + data.Length;
                if (end > node.Data.Length)
                {
                    byte[] grown = new byte[end];
                    node.Data.CopyTo(grown, 0);
                    node.Data = grown;
                }
                data.CopyTo(node.Data.AsSpan((int)offset));
            }
        }

        public void SetLength(long length)
        {
            lock (fs._gate)
            {
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
