using HammingDB.Index;
using HammingDB.Index.Mih;
using HammingDB.Kernels;
using HammingDB.Kernels.Scan;
using HammingDB.Keys;
using HammingDB.Query;

namespace HammingDB;

// Batches of queries on one view, segment by segment: each query first tries the plan the planner
// gives it (MIH while predicted cheaper), and the queries left to the scan are scanned together, in
// tiles of the segment's codes that stay in cache while every queued query runs over them.
public sealed partial class HammingCollection<TKey>
{
    private IReadOnlyList<SearchResult<TKey>>[] KnnBatchCore(ViewLease view, IReadOnlyList<ReadOnlyMemory<ulong>> queries, int k, int parallelism,
        QueryPlan plan, CancellationToken cancellationToken)
    {
        int count = queries.Count;
        var best = new KeyedTopK[count];
        ForEachQuery(count, parallelism, i =>
        {
            best[i] = new KeyedTopK(k, Layout.CodeBits);
            foreach (KeyedNeighbor neighbor in view.Memtable.Knn(queries[i].Span, k, _database.Options.Isa, cancellationToken))
            {
                best[i].Offer(neighbor.Key, neighbor.Distance);
            }
        }, cancellationToken);
        _runtime.CalibrateIfNeeded(view.Segments, _database.Options.Isa);
        CostFeedback costs = _runtime.Costs;
        var bounds = new int[count];
        var toScan = new bool[count];
        foreach (SegmentView segment in view.Segments)
        {
            MihIndex? mih = MihFor(segment, plan);
            SegmentShape shape = ShapeOf(segment, mih);
            ForEachQuery(count, parallelism, i =>
            {
                int bound = best[i].Limit;
                var counters = default(MihCounters);
                Neighbor[]? found = mih is null ? null : KnnByMih(segment, mih, shape, queries[i].Span, k, ref bound, plan, costs, ref counters, cancellationToken);
                if (found is not null)
                {
                    OfferRows(segment, found, best[i]);
                }
                bounds[i] = bound;
                toScan[i] = found is null;
            }, cancellationToken);
            int[] queued = [.. Enumerable.Range(0, count).Where(i => toScan[i])];
            if (queued.Length == 0)
            {
                continue;
            }
            LiveTopKSink[] sinks = [.. queued.Select(i => new LiveTopKSink(segment, new TopKCollector(k, segment.Reader.Rows, Layout.CodeBits), bounds[i]))];
            ScanQueued(segment, queries, queued, sinks, parallelism, cancellationToken);
            ForEachQuery(queued.Length, parallelism, j => OfferRows(segment, sinks[j].Collector.ToSortedArray(), best[queued[j]]), cancellationToken);
        }
        var results = new IReadOnlyList<SearchResult<TKey>>[count];
        for (int i = 0; i < count; i++)
        {
            results[i] = best[i].ToSortedList().Select(n => new SearchResult<TKey>(KeyCodecFor<TKey>.Decode(n.Key), n.Distance)).ToList();
        }
        return results;
    }

    private IReadOnlyList<SearchResult<TKey>>[] RadiusBatchCore(ViewLease view, IReadOnlyList<ReadOnlyMemory<ulong>> queries, int radius, int parallelism,
        QueryPlan plan, CancellationToken cancellationToken)
    {
        int count = queries.Count;
        var hits = new Neighbor[count][][];
        for (int i = 0; i < count; i++)
        {
            hits[i] = new Neighbor[view.Segments.Length][];
        }
        _runtime.CalibrateIfNeeded(view.Segments, _database.Options.Isa);
        CostFeedback costs = _runtime.Costs;
        var toScan = new bool[count];
        for (int s = 0; s < view.Segments.Length; s++)
        {
            SegmentView segment = view.Segments[s];
            MihIndex? mih = MihFor(segment, plan);
            SegmentShape shape = ShapeOf(segment, mih);
            ForEachQuery(count, parallelism, i =>
            {
                var counters = default(MihCounters);
                PlanChoice choice = PlanRadius(segment, mih, shape, queries[i].Span, radius, plan, costs.Radius);
                Neighbor[]? found = choice.Plan == SegmentPlan.Mih ? RadiusByMih(segment, mih!, shape, queries[i].Span, radius, plan, costs, ref counters) : null;
                hits[i][s] = found ?? [];
                toScan[i] = found is null;
            }, cancellationToken);
            int[] queued = [.. Enumerable.Range(0, count).Where(i => toScan[i])];
            if (queued.Length == 0)
            {
                continue;
            }
            LiveRadiusSink[] sinks = [.. queued.Select(_ => new LiveRadiusSink(segment, new RadiusCollector(), radius))];
            ScanQueued(segment, queries, queued, sinks, parallelism, cancellationToken);
            ForEachQuery(queued.Length, parallelism, j => hits[queued[j]][s] = sinks[j].Sorted(Layout.CodeBits), cancellationToken);
        }
        var results = new IReadOnlyList<SearchResult<TKey>>[count];
        ForEachQuery(count, parallelism, i =>
            results[i] = RadiusResults(view, new RadiusHits(hits[i], view.Memtable.Radius(queries[i].Span, radius, _database.Options.Isa, cancellationToken))).ToList(), cancellationToken);
        return results;
    }

    // Scans one segment for the queued queries together: the queries are split over the threads, and
    // each thread walks the codes a tile at a time, running each of its queries over the tile while it
    // is in cache. Rows reach each sink in ascending order, as they do in a single scan.
    private void ScanQueued<TSink>(SegmentView segment, IReadOnlyList<ReadOnlyMemory<ulong>> queries, int[] queued, TSink[] sinks, int parallelism,
        CancellationToken cancellationToken)
        where TSink : struct, IRowBaseSink
    {
        CodeBlock codes = segment.Reader.Codes;
        int tileRows = Math.Max(64, _database.Options.ScanTileBytes / codes.Layout.StrideBytes / 64 * 64);
        int parts = Math.Min(parallelism, queued.Length);
        void RunPart(int part)
        {
            int first = (int)((long)queued.Length * part / parts);
            int end = (int)((long)queued.Length * (part + 1) / parts);
            for (int tile = 0; tile < codes.Count; tile += tileRows)
            {
                cancellationToken.ThrowIfCancellationRequested();
                CodeBlock block = codes.Slice(tile, Math.Min(tileRows, codes.Count - tile));
                for (int j = first; j < end; j++)
                {
                    sinks[j].RowBase = tile;
                    ExhaustiveSearch.Scan(block, queries[queued[j]].Span, ref sinks[j], _database.Options.Isa);
                }
            }
        }
        if (parts == 1)
        {
            RunPart(0);
        }
        else
        {
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts, CancellationToken = cancellationToken }, RunPart);
        }
    }

    private static void OfferRows(SegmentView segment, Neighbor[] found, KeyedTopK best)
    {
        byte[][] keys = segment.Reader.GetKeys(found.Select(f => (int)f.Id).ToList());
        for (int i = 0; i < found.Length; i++)
        {
            best.Offer(keys[i], found[i].Distance);
        }
    }

    private static void ForEachQuery(int count, int parallelism, Action<int> body, CancellationToken cancellationToken)
    {
        if (parallelism == 1 || count == 1)
        {
            for (int i = 0; i < count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                body(i);
            }
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, body);
    }
}
