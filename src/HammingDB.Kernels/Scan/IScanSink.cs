namespace HammingDB.Kernels.Scan;

/// <summary>
/// Where a block scan sends the rows that pass its distance filter. Sinks are structs so that
/// each scan loop is compiled for its sink and the calls inline.
/// </summary>
/// <remarks>
/// Contract: a scan visits rows in ascending order and calls <see cref="Accept"/> only for a
/// row whose distance is at most <see cref="Limit"/> as read just before; it re-reads
/// <see cref="Limit"/> after every accepted row. A negative limit means the sink takes nothing
/// more, and the scan may stop.
/// </remarks>
internal interface IScanSink
{
    /// <summary>The largest distance the sink still accepts.</summary>
    int Limit { get; }

    /// <summary>Takes row <paramref name="row"/> (relative to the scanned block) at <paramref name="distance"/>.</summary>
    void Accept(int row, int distance);
}

/// <summary>Feeds a k-nearest collector; rows are offset by <see cref="RowBase"/> into ids.</summary>
internal struct TopKSink(TopKCollector collector, long rowBase) : IScanSink
{
    public readonly TopKCollector Collector = collector;
    public long RowBase = rowBase;

    public readonly int Limit => Collector.Limit;

    public readonly void Accept(int row, int distance) => Collector.Offer(RowBase + row, distance);
}

/// <summary>Feeds a radius collector; rows are offset by <see cref="RowBase"/> into ids.</summary>
internal struct RadiusSink(RadiusCollector collector, long rowBase, int radius) : IScanSink
{
    public readonly RadiusCollector Collector = collector;
    public long RowBase = rowBase;
    private readonly int _radius = radius;

    public readonly int Limit => _radius;

    public readonly void Accept(int row, int distance) => Collector.Add(RowBase + row, distance);
}
