namespace HammingDB.Index.Mih;

/// <summary>
/// Where <see cref="MihIndex.Radius{TSink}"/> sends the rows within the radius. Each row is
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
