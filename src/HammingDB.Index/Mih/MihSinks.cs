using HammingDB.Kernels;

namespace HammingDB.Index.Mih;

/// <summary>
/// Where <see cref="MihIndex.Radius{TSink}(ReadOnlySpan{ulong}, int, ref TSink)"/> sends the rows within the radius. Each row is
/// given once, in no particular order; the sink may drop rows (deleted ones). Implement it as a
/// struct so the probe loop is compiled for it.
/// </summary>
public interface IMihRadiusSink
{
    /// <summary>Takes row <paramref name="row"/> at Hamming distance <paramref name="distance"/> from the query.</summary>
    void Accept(int row, int distance);
}

/// <summary>Which rows a <see cref="MihIndex.Knn{TFilter}"/> search may return (e.g. not deleted ones).</summary>
public interface IRowFilter
{
    /// <summary>Whether row <paramref name="row"/> may be a result.</summary>
    bool Keep(int row);
}

/// <summary>The filter that keeps every row.</summary>
public readonly struct KeepAllRows : IRowFilter
{
    /// <inheritdoc />
    public bool Keep(int row) => true;
}

/// <summary>What a multi-index hashing search read: buckets probed, postings examined, kNN rings run.</summary>
public struct MihCounters
{
    /// <summary>Buckets probed.</summary>
    public long Probes { get; set; }

    /// <summary>Postings examined (candidates), over all probed buckets.</summary>
    public long Postings { get; set; }

    /// <summary>kNN steps (a ring of one table) run.</summary>
    public int Rings { get; set; }
}

/// <summary>The reads a radius search would make: <see cref="Postings"/> is exact when <see cref="Exact"/>, else the average bucket times the probes.</summary>
public readonly record struct MihEstimate(long Probes, long Postings, bool Exact);

/// <summary>The next step of a kNN search: ring <see cref="Ring"/> of table <see cref="Table"/>, its probes, and the postings an average bucket would give.</summary>
/// <param name="Ring">The substring distance s of the ring.</param>
/// <param name="Table">The table j.</param>
/// <param name="Probes">Buckets the step probes.</param>
/// <param name="ExpectedPostings">Probes times the table's average bucket size.</param>
/// <param name="KthDistance">The current k-th distance, or -1 while fewer than k rows are held.</param>
public readonly record struct MihKnnStep(int Ring, int Table, long Probes, double ExpectedPostings, int KthDistance);

/// <summary>Decides, before each step of a kNN search, whether to go on (e.g. switching to a scan when that is cheaper).</summary>
public interface IMihKnnGovernor
{
    /// <summary>Whether to run <paramref name="upcoming"/>, given what was read so far.</summary>
    bool Proceed(in MihKnnStep upcoming, in MihCounters spent);
}

/// <summary>The governor that never abandons.</summary>
public readonly struct UnlimitedKnn : IMihKnnGovernor
{
    /// <inheritdoc />
    public bool Proceed(in MihKnnStep upcoming, in MihCounters spent) => true;
}

/// <summary>A kNN search's rows (ordered by distance, then row) and whether it was abandoned (then the rows are not the answer).</summary>
public readonly record struct MihKnnResult(Neighbor[] Neighbors, bool Abandoned);
