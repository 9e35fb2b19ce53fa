namespace HammingDB.Storage;

/// <summary>
/// The file-system seam under storage: everything HammingDB does to disk goes through it, so tests
/// can drop what was never synced, tear tails and fail the N-th call (STYLE 9). Paths are absolute.
/// </summary>
internal interface IFileSystem
{
    /// <summary>Creates a new, empty file; fails if it exists.</summary>
    IStorageFile Create(string path);

    /// <summary>Opens an existing file.</summary>
    IStorageFile Open(string path, bool writable);

    /// <summary>Atomically renames, replacing <paramref name="destination"/>. Not durable until the directory is synced.</summary>
    void Rename(string source, string destination);

    /// <summary>Removes a file; no error if it is absent.</summary>
    void Delete(string path);

    /// <summary>Makes creates, renames and deletes in <paramref name="directory"/> durable.</summary>
    void SyncDirectory(string directory);

    bool FileExists(string path);

    /// <summary>The names (not paths) of the files in <paramref name="directory"/>.</summary>
    IReadOnlyList<string> ListFiles(string directory);

    void CreateDirectory(string path);

    /// <summary>
    /// Takes the exclusive lock file <paramref name="path"/> (created if absent) for as long as the
    /// result is not disposed; throws <see cref="StorageException"/> at once if another holder has it.
    /// </summary>
    IDisposable LockExclusive(string path);

    /// <summary>
    /// Takes a shared hold of the existing lock file <paramref name="path"/> (readers: a read-only open, a check) for as
    /// long as the result is not disposed, opening it for reading only; null when there is no lock file (none is created).
    /// Throws <see cref="StorageException"/> at once while a writer holds the exclusive lock; any number of shared holds coexist.
    /// </summary>
    IDisposable? LockShared(string path);
}

/// <summary>An open file of the seam. Reads and writes are positional; nothing is durable before <see cref="Sync"/>.</summary>
internal interface IStorageFile : IDisposable
{
    string Path { get; }

    long Length { get; }

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes at <paramref name="offset"/>; returns how many (fewer only at the end).</summary>
    int Read(long offset, Span<byte> buffer);

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/>.</summary>
    void Write(long offset, ReadOnlySpan<byte> data);

    /// <summary>Cuts or extends the file to <paramref name="length"/> bytes.</summary>
    void SetLength(long length);

    /// <summary>Makes every byte written so far durable; throws <see cref="StorageException"/> if the device says it failed.</summary>
    void Sync();

    /// <summary>
    /// Maps the whole file read-only. The mapping starts 64-byte aligned and stays valid until
    /// disposed; the file must not be truncated meanwhile (a mapped reader would die of SIGBUS).
    /// </summary>
    MappedRegion MapReadOnly();
}

/// <summary>A read-only view of a whole file in memory.</summary>
internal abstract unsafe class MappedRegion : IDisposable
{
    /// <summary>The first byte; 64-byte aligned.</summary>
    public abstract byte* Pointer { get; }

    public abstract long Length { get; }

    public ReadOnlySpan<byte> Span(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) is outside the mapping of {Length} bytes.");
        }
        return new ReadOnlySpan<byte>(Pointer + offset, length);
    }

    public abstract void Dispose();
}
