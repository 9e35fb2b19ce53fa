namespace HammingDB.Storage.Keys;

/// <summary>Where a database's key index lives: opens the latest checkpoint, or starts an empty one to rebuild.</summary>
internal interface IKeyIndexStore
{
    /// <summary>Where the index is, for messages (a directory, or a name).</summary>
    string Location { get; }

    IKeyIndex Open();

    IKeyIndex CreateEmpty();

    /// <summary>
    /// The latest checkpoint, opened so that nothing of the store is changed (to verify it), or null
    /// when there is none. Writes to the result go nowhere lasting.
    /// </summary>
    IKeyIndex? OpenCopy();

    /// <summary>
    /// A new, empty index that changes nothing of the store (outside the database directory, removed when disposed):
    /// what a read-only open rebuilds when the stored index is behind the manifest.
    /// </summary>
    IKeyIndex CreateScratch();
}

/// <summary>The key index on FASTER, in a directory of its own.</summary>
internal sealed class FasterKeyIndexStore(string directory) : IKeyIndexStore
{
    public string Location => directory;

    public IKeyIndex Open() => FasterKeyIndex.Open(directory);

    public IKeyIndex CreateEmpty() => FasterKeyIndex.CreateEmpty(directory);

    /// <summary>
    /// Recovering a FASTER store writes to its directory (measured with FASTER 2.6.5: recovery in
    /// place deleted the older index checkpoint, as outdated checkpoints are removed, and created a
    /// delta file in the log checkpoint it used), and there is no read-only mode. So the directory is
    /// copied to a temporary one and the copy is recovered; the copy is deleted with the result.
    /// </summary>
    public IKeyIndex? OpenCopy()
    {
        if (!Directory.Exists(directory))
        {
            return null;
        }
        string copy = Directory.CreateTempSubdirectory("hammingdb-check-").FullName;
        try
        {
            CopyDirectory(directory, copy);
            return new CopiedIndex(FasterKeyIndex.Open(copy), copy);
        }
        catch
        {
            Directory.Delete(copy, recursive: true);
            throw;
        }
    }

    public IKeyIndex CreateScratch()
    {
        string scratch = Directory.CreateTempSubdirectory("hammingdb-keys-").FullName;
        try
        {
            return new CopiedIndex(FasterKeyIndex.CreateEmpty(scratch), scratch);
        }
        catch
        {
            Directory.Delete(scratch, recursive: true);
            throw;
        }
    }

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (string file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        }
        foreach (string sub in Directory.GetDirectories(source))
        {
            CopyDirectory(sub, Path.Combine(destination, Path.GetFileName(sub)));
        }
    }

    /// <summary>An index in a temporary directory (a recovered copy, or a scratch index), deleted with it.</summary>
    private sealed class CopiedIndex(FasterKeyIndex index, string directory) : IKeyIndex
    {
        public long Version => index.Version;

        public void Upsert(uint collection, ReadOnlySpan<byte> key, RowLocation location) => index.Upsert(collection, key, location);

        public void UpsertRows(uint collection, IReadOnlyList<byte[]> keys, long segment) => index.UpsertRows(collection, keys, segment);

        public bool TryGet(uint collection, ReadOnlySpan<byte> key, out RowLocation location) => index.TryGet(collection, key, out location);

        public void Delete(uint collection, ReadOnlySpan<byte> key) => index.Delete(collection, key);

        public void Checkpoint(long version) => index.Checkpoint(version);

        public IEnumerable<KeyIndexEntry> Entries() => index.Entries();

        public void Dispose()
        {
            index.Dispose();
            Directory.Delete(directory, recursive: true);
        }
    }
}

/// <summary>
/// A key index in memory, for tests through the in-memory file system, where FASTER's own files
/// would escape the seam. By default it keeps nothing across opens (its version is always 0, so a
/// database rebuilds it from the segments at every open); with <c>keep</c> every open returns the
/// same index, as if each change were checkpointed at once (to plant damage in it).
/// </summary>
internal sealed class MemoryKeyIndexStore(bool keep = false) : IKeyIndexStore
{
    private Entries? _kept;

    public string Location => "(key index in memory)";

    public IKeyIndex Open() => new MemoryKeyIndex(keep ? _kept ??= new Entries() : new Entries());

    public IKeyIndex CreateEmpty() => new MemoryKeyIndex(keep ? _kept = new Entries() : new Entries());

    public IKeyIndex? OpenCopy() => keep && _kept is not null ? new MemoryKeyIndex(_kept.Copy()) : null;

    public IKeyIndex CreateScratch() => new MemoryKeyIndex(new Entries());

    private sealed class Entries
    {
        public System.Collections.Concurrent.ConcurrentDictionary<(uint, string), RowLocation> Rows { get; } = new();

        public long Version { get; set; }

        public Entries Copy()
        {
            var copy = new Entries { Version = Version };
            foreach (var (key, location) in Rows)
            {
                copy.Rows[key] = location;
            }
            return copy;
        }
    }

    private sealed class MemoryKeyIndex(Entries entries) : IKeyIndex
    {
        public long Version => entries.Version;

        public void UpsertRows(uint collection, IReadOnlyList<byte[]> keys, long segment)
        {
            for (int row = 0; row < keys.Count; row++)
            {
                Upsert(collection, keys[row], new RowLocation(segment, row));
            }
        }

        public void Upsert(uint collection, ReadOnlySpan<byte> key, RowLocation location) => entries.Rows[(collection, Convert.ToBase64String(key))] = location;

        public bool TryGet(uint collection, ReadOnlySpan<byte> key, out RowLocation location) => entries.Rows.TryGetValue((collection, Convert.ToBase64String(key)), out location);

        public void Delete(uint collection, ReadOnlySpan<byte> key) => entries.Rows.TryRemove((collection, Convert.ToBase64String(key)), out _);

        public void Checkpoint(long version) => entries.Version = version;

        public IEnumerable<KeyIndexEntry> Entries() =>
            entries.Rows.Select(e => new KeyIndexEntry(e.Key.Item1, Convert.FromBase64String(e.Key.Item2), e.Value)).ToList();

        public void Dispose()
        {
        }
    }
}
