namespace HammingDB.Storage.Keys;

/// <summary>Where a database's key index lives: opens the latest checkpoint, or starts an empty one to rebuild.</summary>
internal interface IKeyIndexStore
{
    IKeyIndex Open();

    IKeyIndex CreateEmpty();
}

/// <summary>The key index on FASTER, in a directory of its own.</summary>
internal sealed class FasterKeyIndexStore(string directory) : IKeyIndexStore
{
    public IKeyIndex Open() => FasterKeyIndex.Open(directory);

    public IKeyIndex CreateEmpty() => FasterKeyIndex.CreateEmpty(directory);
}

/// <summary>
/// A key index in memory that keeps nothing across opens (its version is always 0, so a database
/// rebuilds it from the segments at every open). For tests through the in-memory file system,
/// where FASTER's own files would escape the seam.
/// </summary>
internal sealed class MemoryKeyIndexStore : IKeyIndexStore
{
    public IKeyIndex Open() => new MemoryKeyIndex();

    public IKeyIndex CreateEmpty() => new MemoryKeyIndex();

    private sealed class MemoryKeyIndex : IKeyIndex
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<(uint, string), RowLocation> _rows = new();

        public long Version { get; private set; }

        public void Upsert(uint collection, ReadOnlySpan<byte> key, RowLocation location) => _rows[(collection, Convert.ToBase64String(key))] = location;

        public void UpsertRows(uint collection, IReadOnlyList<byte[]> keys, long segment)
        {
            for (int row = 0; row < keys.Count; row++)
            {
                Upsert(collection, keys[row], new RowLocation(segment, row));
            }
        }

        public bool TryGet(uint collection, ReadOnlySpan<byte> key, out RowLocation location) => _rows.TryGetValue((collection, Convert.ToBase64String(key)), out location);

        public void Delete(uint collection, ReadOnlySpan<byte> key) => _rows.TryRemove((collection, Convert.ToBase64String(key)), out _);

        public void Checkpoint(long version) => Version = version;

        public void Dispose()
        {
        }
    }
}
