using System.Collections.Immutable;
using HammingDB.Index;
using HammingDB.Kernels;
using HammingDB.Storage.Manifest;
using HammingDB.Storage.Segments;
using HammingDB.Writing;

namespace HammingDB;

/// <summary>A sealed segment as searches see it: the mapped file, its deletion bitmap, and the deletions since.</summary>
internal sealed class SegmentView(long fileNumber, SegmentReader reader, DeletionBitmap deleted, long deletionVersion, ImmutableHashSet<int> deletedSince)
{
    public long FileNumber { get; } = fileNumber;

    public SegmentReader Reader { get; } = reader;

    /// <summary>The rows deleted as of the live bitmap file.</summary>
    public DeletionBitmap Deleted { get; } = deleted;

    public long DeletionVersion { get; } = deletionVersion;

    /// <summary>Rows deleted since that file, not yet written to a new version (the log has them).</summary>
    public ImmutableHashSet<int> DeletedSince { get; } = deletedSince;

    public bool IsLive(int row) => !Deleted.IsDeleted(row) && !DeletedSince.Contains(row);

    public int LiveRows => Deleted.Rows - Deleted.DeletedRows - DeletedSince.Count;

    public SegmentView WithDeleted(int row) => new(FileNumber, Reader, Deleted, DeletionVersion, DeletedSince.Add(row));
}

/// <summary>
/// One collection's state: its definition, its sealed segments (an immutable list swapped whole, so
/// a search reads one consistent list) and its memtable. Mutated by the writer only.
/// </summary>
internal sealed class CollectionRuntime(CollectionState definition, Memtable memtable, ImmutableArray<SegmentView> segments)
{
    public CollectionState Definition { get; } = definition;

    public CollectionShape Shape { get; } = new(new CodeLayout(definition.CodeBits), definition.HasPayloads, definition.VectorDimension);

    public Memtable Memtable { get; set; } = memtable;

    public ImmutableArray<SegmentView> Segments { get; set; } = segments;

    /// <summary>Guards the pair (segments, memtable), which the writer swaps together at a seal.</summary>
    public object Gate { get; } = new();

    /// <summary>A consistent view for one search: segments and memtable as of now.</summary>
    public (ImmutableArray<SegmentView> Segments, MemtableSnapshot Memtable) View()
    {
        lock (Gate)
        {
            return (Segments, Memtable.Snapshot());
        }
    }
}
