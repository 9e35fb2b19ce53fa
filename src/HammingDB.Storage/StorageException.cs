namespace HammingDB.Storage;

/// <summary>
/// A storage operation failed (an I/O error, a failed fsync, no space). After a failed sync the
/// writer that saw it stops: nothing it acknowledges afterwards is trusted; reopen to recover.
/// </summary>
public class StorageException : IOException
{
    /// <summary>A storage error about <paramref name="path"/>.</summary>
    public StorageException(string path, string message, Exception? inner = null)
        : base($"{path}: {message}", inner) => FilePath = path;

    /// <summary>The file or directory concerned.</summary>
    public string FilePath { get; }
}

/// <summary>A file's bytes are not what its writer wrote: the file, the offset and what is wrong.</summary>
public sealed class CorruptionException : StorageException
{
    /// <summary>Damage found in <paramref name="path"/> at <paramref name="offset"/> (-1: not at one offset, e.g. an index entry).</summary>
    public CorruptionException(string path, long offset, string reason)
        : base(path, offset >= 0 ? $"corrupt at offset {offset}: {reason}" : $"corrupt: {reason}")
    {
        Offset = offset;
        Reason = reason;
    }

    /// <summary>Where in the file the damage was found, or -1 when it is not at one offset.</summary>
    public long Offset { get; }

    /// <summary>What is wrong there.</summary>
    public string Reason { get; }
}

/// <summary>
/// The device had no space left (ENOSPC) for a write, a file's growth or a sync. Like every storage
/// error during a write, it stops the writer; reads go on, and a reopen after space was freed resumes writing.
/// </summary>
public sealed class DiskFullException : StorageException
{
    /// <summary>No space left on the device holding <paramref name="path"/>.</summary>
    public DiskFullException(string path, string message, Exception? inner = null)
        : base(path, message, inner)
    {
    }
}
