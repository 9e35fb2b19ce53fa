namespace HammingDB.Kernels;

/// <summary>
/// Where a block scan (<see cref="ExhaustiveSearch.Scan{TSink}(CodeBlock, ReadOnlySpan{ulong}, ref TSink, IsaLevel?)"/>) sends the rows that pass its
/// distance filter. Implement it as a struct so that each scan loop is compiled for its sink and
/// the calls inline.
/// </summary>
/// <remarks>
/// Contract: a scan visits rows in ascending order and calls <see cref="Accept"/> only for a
/// row whose distance is at most <see cref="Limit"/> as read just before; it re-reads
/// <see cref="Limit"/> after every accepted row. A negative limit means the sink takes nothing
/// more, and the scan may stop.
/// </remarks>
public interface IScanSink
{
    /// <summary>The largest distance the sink still accepts.</summary>
    int Limit { get; }

    /// <summary>Takes row <paramref name="row"/> (relative to the scanned block) at <paramref name="distance"/>.</summary>
    void Accept(int row, int distance);
}
