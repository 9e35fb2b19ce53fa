using HammingDB.Storage;

namespace HammingDB;

/// <summary>
/// A write was refused because the database is open read-only (<see cref="DatabaseOptions.ReadOnly"/>): nothing was
/// written. <see cref="StorageException.FilePath"/> is the database directory.
/// </summary>
public sealed class ReadOnlyDatabaseException : StorageException
{
    /// <summary>The refusal of <paramref name="operation"/> on the database in <paramref name="directory"/>.</summary>
    public ReadOnlyDatabaseException(string directory, string operation)
        : base(directory, $"the database is open read-only; {operation} is refused (nothing was written). Open it without DatabaseOptions.ReadOnly to write.") =>
        Operation = operation;

    /// <summary>The operation refused (the name of the API member).</summary>
    public string Operation { get; }
}
