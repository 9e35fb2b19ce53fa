namespace HammingDB.Kernels.Scan;

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
