using HammingDB.Kernels;

namespace HammingDB;

/// <summary>How a database runs.</summary>
public sealed record DatabaseOptions
{
    /// <summary>The default options.</summary>
    public static DatabaseOptions Default { get; } = new();

    /// <summary>
    /// Whether the database is opened read-only: opening and closing change no file and create none. Queries, lookups,
    /// explain, stats and exports work; every write (collections, rows, batches, flush, compaction, attachments) throws
    /// <see cref="ReadOnlyDatabaseException"/>. The write-ahead log is replayed into memory only (a torn tail is left in
    /// place and its valid prefix served), files the manifest does not name are left alone, and when the key index on
    /// disk is behind the manifest a temporary one is built outside the database directory. The open takes a shared
    /// hold of the lock file: it fails while a writer has the database open, and a writer cannot open it meanwhile
    /// (without a lock file, which only a writer creates, no lock is taken). <see cref="SealOnClose"/> and
    /// <see cref="BackgroundCompaction"/> do not apply. A read-only mount can be opened this way only.
    /// </summary>
    public bool ReadOnly { get; init; }

    /// <summary>Rows a collection's memtable holds before it is sealed into a segment.</summary>
    public int SealRows { get; init; } = 1_000_000;

    /// <summary>
    /// Whether seals start a background compaction when a collection has
    /// <see cref="CompactionMinSegments"/> segments of one size tier (sizes within a factor of 4).
    /// </summary>
    public bool BackgroundCompaction { get; init; } = true;

    /// <summary>How many segments of one size tier make the background compaction merge them (at least 2).</summary>
    public int CompactionMinSegments { get; init; } = 4;

    /// <summary>The kernel path for searches; null for <see cref="Kernels.Isa.Default"/>.</summary>
    public IsaLevel? Isa { get; init; }

    /// <summary>
    /// Whether a clean <see cref="HammingDatabase.Dispose"/> seals the memtables, so the next open
    /// replays nothing (default). When false, close is quicker and the next open replays the log.
    /// </summary>
    public bool SealOnClose { get; init; } = true;

    /// <summary>
    /// Segments of at least this many rows get multi-index hashing tables when they are written (seal,
    /// compaction); smaller ones are always scanned. Tables cost about 48 bytes per row at 64 bits.
    /// </summary>
    public int MihMinRows { get; init; } = 1 << 16;

    /// <summary>Rows of a segment scanned between two cancellation checks (tests make it small to cross block edges).</summary>
    internal int ScanChunkRows { get; init; } = 1 << 18;

    /// <summary>Bytes of codes a batch scan runs all its queued queries over before moving on (tests make it small to cross tile edges).</summary>
    internal int ScanTileBytes { get; init; } = 256 * 1024;
}

/// <summary>What a new collection holds.</summary>
public sealed record CollectionOptions
{
    /// <summary>Code width in bits: a multiple of 8 from 8 to 8192.</summary>
    public required int CodeBits { get; init; }

    /// <summary>Whether every row carries a payload (bytes, at most 16 MiB).</summary>
    public bool Payloads { get; init; }

    /// <summary>The dimension of the float vector every row carries, or 0 for none.</summary>
    public int VectorDimension { get; init; }

    /// <summary>
    /// How sealed segments store the vectors (default <see cref="HammingDB.VectorStorage.Float32"/>). Fixed when the
    /// collection is created; the write-ahead log and the memtable always keep float32.
    /// </summary>
    public VectorStorage VectorStorage { get; init; } = VectorStorage.Float32;
}

/// <summary>How a collection's sealed segments store its rows' float vectors.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "The members name the stored number formats, which is what they mean.")]
public enum VectorStorage
{
    /// <summary>4 bytes per value, exactly as written.</summary>
    Float32 = 0,

    /// <summary>
    /// Symmetric scalar quantization, 1 byte per value plus a 4-byte scale per vector: scale = max |x_i| / 127,
    /// q_i = round(x_i / scale); reads return q_i * scale, within scale / 2 of x_i. Rows not yet sealed (the memtable)
    /// are read as written.
    /// </summary>
    Int8 = 1,
}

/// <summary>How rescoring compares a query vector with stored vectors; in all three, smaller is nearer.</summary>
public enum VectorMetric
{
    /// <summary>Squared Euclidean distance: sum of (q_i - x_i)^2.</summary>
    L2 = 0,

    /// <summary>1 - cos(q, x) = 1 - q.x / (|q| |x|), from 0 (same direction) to 2; 1 when either vector is all zeros.</summary>
    Cosine = 1,

    /// <summary>The negated dot product, -q.x (so the largest inner product is nearest).</summary>
    Dot = 2,
}

/// <summary>A rescored search result: a key, its code's Hamming distance to the query code, and its vector's distance to the query vector.</summary>
/// <param name="Key">The row's key.</param>
/// <param name="HammingDistance">The Hamming distance of its code to the query code.</param>
/// <param name="VectorDistance">The distance of its stored vector to the query vector by the search's <see cref="VectorMetric"/> (computed in double).</param>
public readonly record struct RescoredResult<TKey>(TKey Key, int HammingDistance, double VectorDistance);

/// <summary>A search result: a key and its Hamming distance to the query.</summary>
public readonly record struct SearchResult<TKey>(TKey Key, int Distance);

/// <summary>A stored row.</summary>
public sealed record StoredRow<TKey>(TKey Key, ulong[] Code, byte[]? Payload, float[]? Vector);

/// <summary>What a collection is: its name, code width, key type, and what each row carries.</summary>
public sealed record CollectionInfo(string Name, int CodeBits, Type KeyType, bool Payloads, int VectorDimension)
{
    /// <summary>How its sealed segments store the vectors.</summary>
    public VectorStorage VectorStorage { get; init; } = VectorStorage.Float32;
}

/// <summary>
/// A collection's size at one moment. <see cref="DeletedRows"/> counts rows deleted or superseded that
/// segments still store (compaction drops them); <see cref="SegmentBytes"/> is the size of its segment files.
/// </summary>
public sealed record CollectionStats(long Rows, long DeletedRows, int Segments, long SegmentRows, long SegmentBytes, long MemtableRows);
