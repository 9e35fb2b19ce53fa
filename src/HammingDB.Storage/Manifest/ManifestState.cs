using HammingDB.Storage.Segments;

namespace HammingDB.Storage.Manifest;

/// <summary>
/// Everything the manifest records: which files are live and what they hold. It is the only source
/// of truth for that; a file in the directory that it does not name is not part of the database.
/// </summary>
/// <param name="Version">Increases by one with every switch.</param>
/// <param name="NextFileNumber">The number the next new file (log, segment) takes.</param>
/// <param name="LogNumber">The write-ahead log holding the rows not yet in segments.</param>
/// <param name="Collections">The collections, in creation order.</param>
internal sealed record ManifestState(long Version, long NextFileNumber, long LogNumber, IReadOnlyList<CollectionState> Collections);

/// <summary>One collection, its sealed segments and its attachments.</summary>
internal sealed record CollectionState(
    uint Id, string Name, int CodeBits, KeyKind KeyKind, bool HasPayloads, int VectorDimension, IReadOnlyList<SegmentState> Segments)
{
    /// <summary>How sealed segments store the vectors (manifest version 2; float32 in version 1).</summary>
    public VectorKind VectorKind { get; init; } = VectorKind.Float32;

    /// <summary>The named attachments, each the file number of its live version (manifest version 2; none in version 1).</summary>
    public IReadOnlyList<AttachmentState> Attachments { get; init; } = [];
}

/// <summary>One attachment of a collection: its name and the file holding its live version.</summary>
internal sealed record AttachmentState(string Name, long FileNumber);

/// <summary>One sealed segment: its file number, rows, and the live version of its deletion bitmap (0: none).</summary>
internal sealed record SegmentState(long FileNumber, int Rows, long DeletionVersion, int DeletedRows);
