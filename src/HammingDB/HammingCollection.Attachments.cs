namespace HammingDB;

// Attachments: named, durable, checksummed blobs kept with the collection (e.g. its trained encoder).
public sealed partial class HammingCollection<TKey>
{
    /// <summary>
    /// Stores <paramref name="content"/> as the attachment <paramref name="name"/>, replacing any attachment of that name.
    /// Durable when it returns: the attachment's file is written and synced, and the manifest switched to name it; the
    /// replaced version's file is deleted after the switch. A crash meanwhile leaves the old content or the new, never neither.
    /// Runs under the database's write lock, like a seal: writers wait while the file is written.
    /// </summary>
    /// <param name="name">1 to 64 characters of a-z, 0-9, '.', '_' and '-'.</param>
    /// <param name="content">At most 64 MiB.</param>
    /// <exception cref="ArgumentException">The name or the content size is not allowed (nothing is written).</exception>
    /// <exception cref="Storage.StorageException">A file could not be written or synced (a failed manifest switch stops the database until it is reopened).</exception>
    /// <exception cref="ReadOnlyDatabaseException">The database is open read-only.</exception>
    public void SetAttachment(string name, ReadOnlySpan<byte> content) => _database.SetAttachment(_runtime, name, content);

    /// <summary>The content of the attachment <paramref name="name"/>, or null when the collection has none of that name.</summary>
    /// <exception cref="ArgumentException">The name is not an allowed attachment name.</exception>
    /// <exception cref="Storage.CorruptionException">The attachment's file is missing or damaged (the exception names the file).</exception>
    public byte[]? GetAttachment(string name) => _database.GetAttachment(_runtime, name);

    /// <summary>Removes the attachment <paramref name="name"/>; false when there was none. Durable when it returns.</summary>
    /// <exception cref="ArgumentException">The name is not an allowed attachment name.</exception>
    /// <exception cref="ReadOnlyDatabaseException">The database is open read-only.</exception>
    public bool RemoveAttachment(string name) => _database.RemoveAttachment(_runtime, name);

    /// <summary>The names of the collection's attachments, in ordinal order.</summary>
    public IReadOnlyList<string> AttachmentNames => _database.AttachmentNames(_runtime);
}
