using System.Diagnostics;
using System.Runtime.CompilerServices;
using HammingDB.Index;
using HammingDB.Index.Mih;
using HammingDB.Kernels;
using HammingDB.Kernels.Scan;
using HammingDB.Keys;
using HammingDB.Query;

namespace HammingDB;

// Exact search over one view: the memtable snapshot (scanned) and every segment, by MIH or the scan as planned.
public sealed partial class HammingCollection<TKey>
{
    /// <summary>The <paramref name="k"/> rows nearest <paramref name="query"/>, nearest first, ties by key.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is not positive.</exception>
    /// <exception cref="ArgumentException">The query is not a code of this collection's width.</exception>
    public IReadOnlyList<SearchResult<TKey>> Knn(ReadOnlySpan<ulong> query, int k, QueryPlan plan = QueryPlan.Auto)
    {
        ValidateKnn(query, k);
        using ViewLease view = _runtime.Lease();
        return KnnCore(view, query, k, plan, null, CancellationToken.None);
    }

    /// <summary><see cref="Knn"/> on the thread pool; cancellation is checked between blocks of rows.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is not positive (thrown at once).</exception>
    /// <exception cref="ArgumentException">The query is not a code of this collection's width (thrown at once).</exception>
    public Task<IReadOnlyList<SearchResult<TKey>>> KnnAsync(ReadOnlyMemory<ulong> query, int k, CancellationToken cancellationToken = default) =>
        KnnAsync(query, k, QueryPlan.Auto, cancellationToken);

    /// <summary><see cref="Knn"/> on the thread pool with the plan <paramref name="plan"/>; cancellation is checked between blocks of rows and MIH rings.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is not positive (thrown at once).</exception>
    /// <exception cref="ArgumentException">The query is not a code of this collection's width (thrown at once).</exception>
    public Task<IReadOnlyList<SearchResult<TKey>>> KnnAsync(ReadOnlyMemory<ulong> query, int k, QueryPlan plan, CancellationToken cancellationToken = default)
    {
        ValidateKnn(query.Span, k);
        return Task.Run<IReadOnlyList<SearchResult<TKey>>>(() =>
        {
            using ViewLease view = _runtime.Lease();
            return KnnCore(view, query.Span, k, plan, null, cancellationToken);
        }, cancellationToken);
    }

    /// <summary>
    /// The <paramref name="k"/> nearest rows of every query, all on one consistent view, queries spread
    /// over <paramref name="threads"/> threads (0: one per core); result i answers query i.
    /// </summary>
    /// <exception cref="ArgumentException">A query is not a code of this collection's width (nothing is searched).</exception>
    public IReadOnlyList<IReadOnlyList<SearchResult<TKey>>> KnnBatch(IReadOnlyList<ReadOnlyMemory<ulong>> queries, int k, int threads = 0,
        QueryPlan plan = QueryPlan.Auto, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        for (int i = 0; i < queries.Count; i++)
        {
            ValidateKnn(queries[i].Span, k, $"queries[{i}]");
        }
        using ViewLease view = _runtime.Lease();
        return KnnBatchCore(view, queries, k, Parallelism(threads), plan, cancellationToken);
    }

    /// <summary>Every row within <paramref name="radius"/> of <paramref name="query"/>, nearest first, ties by key.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="radius"/> is negative.</exception>
    /// <exception cref="ArgumentException">The query is not a code of this collection's width.</exception>
    public IReadOnlyList<SearchResult<TKey>> Radius(ReadOnlySpan<ulong> query, int radius, QueryPlan plan = QueryPlan.Auto)
    {
        ValidateRadius(query, radius);
        using ViewLease view = _runtime.Lease();
        return RadiusResults(view, RadiusCore(view, query, radius, plan, null, CancellationToken.None)).ToList();
    }

    /// <summary>
    /// Every row within <paramref name="radius"/> of <paramref name="query"/>, nearest first, ties by key,
    /// as a stream: the scan runs on the thread pool, then results are produced distance by distance
    /// (keys of one distance decoded at a time). The view is held until the enumeration ends.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="radius"/> is negative (thrown at once).</exception>
    /// <exception cref="ArgumentException">The query is not a code of this collection's width (thrown at once).</exception>
    public IAsyncEnumerable<SearchResult<TKey>> RadiusAsync(ReadOnlyMemory<ulong> query, int radius, CancellationToken cancellationToken = default) =>
        RadiusAsync(query, radius, QueryPlan.Auto, cancellationToken);

    /// <summary><see cref="RadiusAsync(ReadOnlyMemory{ulong}, int, CancellationToken)"/> with the plan <paramref name="plan"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="radius"/> is negative (thrown at once).</exception>
    /// <exception cref="ArgumentException">The query is not a code of this collection's width (thrown at once).</exception>
    public IAsyncEnumerable<SearchResult<TKey>> RadiusAsync(ReadOnlyMemory<ulong> query, int radius, QueryPlan plan, CancellationToken cancellationToken = default)
    {
        ValidateRadius(query.Span, radius);
        return Stream(query, radius, plan, cancellationToken);

        async IAsyncEnumerable<SearchResult<TKey>> Stream(ReadOnlyMemory<ulong> query, int radius, QueryPlan plan, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            using ViewLease view = _runtime.Lease();
            RadiusHits hits = await Task.Run(() => RadiusCore(view, query.Span, radius, plan, null, cancellationToken), cancellationToken).ConfigureAwait(false);
            foreach (SearchResult<TKey> result in RadiusResults(view, hits))
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return result;
            }
        }
    }

    /// <summary>Every query's radius results, on one consistent view, queries spread over <paramref name="threads"/> threads (0: one per core).</summary>
    /// <exception cref="ArgumentException">A query is not a code of this collection's width (nothing is searched).</exception>
    public IReadOnlyList<IReadOnlyList<SearchResult<TKey>>> RadiusBatch(IReadOnlyList<ReadOnlyMemory<ulong>> queries, int radius, int threads = 0,
        QueryPlan plan = QueryPlan.Auto, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        for (int i = 0; i < queries.Count; i++)
        {
            ValidateRadius(queries[i].Span, radius, $"queries[{i}]");
        }
        using ViewLease view = _runtime.Lease();
        return RadiusBatchCore(view, queries, radius, Parallelism(threads), plan, cancellationToken);
    }

    private void ValidateKnn(ReadOnlySpan<ulong> query, int k, string name = "query")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        Layout.Validate(query, name);
    }

    private void ValidateRadius(ReadOnlySpan<ulong> query, int radius, string name = "query")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        Layout.Validate(query, name);
    }

    private static int Parallelism(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        return threads == 0 ? Environment.ProcessorCount : threads;
    }

    private List<SearchResult<TKey>> KnnCore(ViewLease view, ReadOnlySpan<ulong> query, int k, QueryPlan plan, QueryTrace? trace, CancellationToken cancellationToken) =>
        KnnLocated(view, query, k, plan, trace, cancellationToken).Select(n => new SearchResult<TKey>(KeyCodecFor<TKey>.Decode(n.Key), n.Distance)).ToList();

    // The k nearest as encoded keys, nearest first, ties by key, each with where its row is in the view
    // (KeyedNeighbor.Source: the segment's index or the memtable; Row), for rescoring to read its vector.
    // The memtable first (it is small and gives an early k-th distance), then each segment with that
    // distance as an inclusive bound: a row tied with the current k-th may still win on its key.
    private List<KeyedNeighbor> KnnLocated(ViewLease view, ReadOnlySpan<ulong> query, int k, QueryPlan plan, QueryTrace? trace, CancellationToken cancellationToken)
    {
        var best = new KeyedTopK(k, Layout.CodeBits);
        foreach (KeyedNeighbor neighbor in view.Memtable.Knn(query, k, _database.Options.Isa, cancellationToken))
        {
            best.Offer(neighbor);
        }
        _runtime.CalibrateIfNeeded(view.Segments, _database.Options.Isa);
        CostFeedback costs = _runtime.Costs;
        trace?.UseModel(costs.Describe(knn: true));
        for (int s = 0; s < view.Segments.Length; s++)
        {
            // Rows are in key order inside a segment: top k by (distance, row) is top k by (distance, key).
            SegmentView segment = view.Segments[s];
            Neighbor[] found = KnnSegment(segment, query, k, best.Limit, plan, costs, trace, cancellationToken);
            byte[][] keys = segment.Reader.GetKeys(found.Select(f => (int)f.Id).ToList());
            for (int i = 0; i < found.Length; i++)
            {
                best.Offer(new KeyedNeighbor(keys[i], found[i].Distance) { Source = s, Row = (int)found[i].Id });
            }
        }
        return best.ToSortedList();
    }

    // One segment's k nearest live rows within the bound, ordered by (distance, row): by MIH while the
    // planner predicts it cheaper than the scan (or always, when forced), else by the scan.
    private Neighbor[] KnnSegment(SegmentView segment, ReadOnlySpan<ulong> query, int k, int bound, QueryPlan plan, CostFeedback feedback, QueryTrace? trace,
        CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        CostModel costs = feedback.Knn;
        MihIndex? mih = MihFor(segment, plan);
        SegmentShape shape = ShapeOf(segment, mih);
        var counters = default(MihCounters);
        string how = "scan";
        string reason = mih is null ? NoTablesReason(segment, plan) : "";
        if (mih is not null)
        {
            Neighbor[]? byMih = KnnByMih(segment, mih, shape, query, k, ref bound, plan, feedback, ref counters, cancellationToken);
            if (byMih is not null)
            {
                trace?.Add(segment, mih, "mih", plan == QueryPlan.Auto ? "every MIH ring predicted cheaper than the scan" : "MIH forced",
                    costs.MihNs(counters.Probes, counters.Postings, shape.InlineCodes), costs.ScanNs(shape.Rows, shape.Words), counters, 0, byMih.Length, started);
                return byMih;
            }
            how = "mih+scan";
            reason = $"ring {counters.Rings} predicted to pass the scan's cost; switched to the scan";
        }
        var sink = new LiveTopKSink(segment, new TopKCollector(k, segment.Reader.Rows, Layout.CodeBits), bound);
        long scanStarted = Stopwatch.GetTimestamp();
        ScanSegment(segment, query, ref sink, cancellationToken);
        Neighbor[] found = sink.Collector.ToSortedArray();
        Observe(feedback, CostKind.Scan, feedback.Calibrated.ScanNs(shape.Rows, shape.Words), scanStarted, found.Length);
        trace?.Add(segment, mih, how, reason, mih is null ? double.NaN : costs.MihNs(counters.Probes, counters.Postings, shape.InlineCodes),
            costs.ScanNs(shape.Rows, shape.Words), counters, segment.Reader.Rows, found.Length, started);
        return found;
    }

    // MIH rings under the planner's governor: the neighbours when MIH finished; null when it switched
    // to the scan, with the bound tightened by what it had found (k rows at most that far).
    private static Neighbor[]? KnnByMih(SegmentView segment, MihIndex mih, SegmentShape shape, ReadOnlySpan<ulong> query, int k, ref int bound,
        QueryPlan plan, CostFeedback feedback, ref MihCounters counters, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        var governor = new PlannedKnn(feedback.Knn, shape, plan == QueryPlan.Auto, cancellationToken);
        MihKnnResult result = mih.Knn(query, k, new LiveRows(segment), bound, ref governor, ref counters);
        Observe(feedback, CostKind.MihKnn, feedback.Calibrated.MihNs(counters.Probes, counters.Postings, shape.InlineCodes), started, result.Neighbors.Length);
        if (!result.Abandoned)
        {
            return result.Neighbors;
        }
        if (result.Neighbors.Length == k)
        {
            bound = Math.Min(bound, result.Neighbors[^1].Distance);
        }
        return null;
    }

    // The rows within the radius: per segment (distance, row) in order, and the memtable's keyed rows in order.
    private sealed record RadiusHits(Neighbor[][] Segments, List<KeyedNeighbor> Memtable);

    private RadiusHits RadiusCore(ViewLease view, ReadOnlySpan<ulong> query, int radius, QueryPlan plan, QueryTrace? trace, CancellationToken cancellationToken)
    {
        var perSegment = new Neighbor[view.Segments.Length][];
        _runtime.CalibrateIfNeeded(view.Segments, _database.Options.Isa);
        CostFeedback costs = _runtime.Costs;
        trace?.UseModel(costs.Describe(knn: false));
        for (int s = 0; s < perSegment.Length; s++)
        {
            perSegment[s] = RadiusSegment(view.Segments[s], query, radius, plan, costs, trace, cancellationToken);
        }
        return new RadiusHits(perSegment, view.Memtable.Radius(query, radius, _database.Options.Isa, cancellationToken));
    }

    // One segment's live rows within the radius, ordered by (distance, row), by the plan the planner
    // predicts cheaper from the tables' exact bucket sizes (or the forced one).
    private Neighbor[] RadiusSegment(SegmentView segment, ReadOnlySpan<ulong> query, int radius, QueryPlan plan, CostFeedback feedback, QueryTrace? trace,
        CancellationToken cancellationToken)
    {
        CostModel costs = feedback.Radius;
        cancellationToken.ThrowIfCancellationRequested();
        long started = Stopwatch.GetTimestamp();
        MihIndex? mih = MihFor(segment, plan);
        SegmentShape shape = ShapeOf(segment, mih);
        var counters = default(MihCounters);
        PlanChoice choice = PlanRadius(segment, mih, shape, query, radius, plan, costs);
        Neighbor[]? found = null;
        string how = "scan";
        if (choice.Plan == SegmentPlan.Mih)
        {
            found = RadiusByMih(segment, mih!, shape, query, radius, plan, feedback, ref counters);
            how = found is null ? "mih+scan" : "mih";
        }
        if (found is null)
        {
            var sink = new LiveRadiusSink(segment, new RadiusCollector(), radius);
            long scanStarted = Stopwatch.GetTimestamp();
            ScanSegment(segment, query, ref sink, cancellationToken);
            found = sink.Sorted(Layout.CodeBits);
            Observe(feedback, CostKind.Scan, feedback.Calibrated.ScanNs(shape.Rows, shape.Words), scanStarted, found.Length);
        }
        trace?.Add(segment, mih, how,
            how == "mih+scan" ? $"{choice.Reason}; the buckets held more than predicted, switched to the scan after {counters.Postings} postings" : choice.Reason,
            choice.MihNs, choice.ScanNs, counters, how == "mih" ? 0 : segment.Reader.Rows, found.Length, started);
        return found;
    }

    // The plan for one segment and query: the forced one, or the planner's from the average bucket far
    // from the crossover and from the exact bucket sizes near it.
    private static PlanChoice PlanRadius(SegmentView segment, MihIndex? mih, SegmentShape shape, ReadOnlySpan<ulong> query, int radius, QueryPlan plan,
        CostModel costs)
    {
        if (mih is null)
        {
            return new PlanChoice(SegmentPlan.Scan, double.NaN, costs.ScanNs(shape.Rows, shape.Words), NoTablesReason(segment, plan));
        }
        if (plan == QueryPlan.Mih)
        {
            return new PlanChoice(SegmentPlan.Mih, double.NaN, costs.ScanNs(shape.Rows, shape.Words), "MIH forced");
        }
        MihEstimate estimate = mih.EstimateRadius(query, radius, maxProbes: 0);
        if (Planner.CountExactly(costs, shape, estimate))
        {
            estimate = mih.EstimateRadius(query, radius, Planner.MaxProbesToCount(costs, shape));
        }
        return Planner.ChooseRadius(costs, shape, estimate);
    }

    // The live rows within the radius by MIH, ordered by (distance, row); null when (auto) the buckets
    // held more postings than the scan's cost pays for.
    private static Neighbor[]? RadiusByMih(SegmentView segment, MihIndex mih, SegmentShape shape, ReadOnlySpan<ulong> query, int radius, QueryPlan plan,
        CostFeedback feedback, ref MihCounters counters)
    {
        long started = Stopwatch.GetTimestamp();
        var sink = new LiveMihRadiusSink(segment, []);
        long budget = plan == QueryPlan.Auto ? Planner.PostingBudget(feedback.Radius, shape) : long.MaxValue;
        bool finished = mih.Radius(query, radius, ref sink, ref counters, budget);
        if (!finished)
        {
            Observe(feedback, CostKind.MihRadius, feedback.Calibrated.MihNs(counters.Probes, counters.Postings, shape.InlineCodes), started, sink.Results.Count);
            return null;
        }
        sink.Results.Sort();
        Observe(feedback, CostKind.MihRadius, feedback.Calibrated.MihNs(counters.Probes, counters.Postings, shape.InlineCodes), started, sink.Results.Count);
        return [.. sink.Results];
    }

    // The segment's tables when the plan may use them; a forced MIH plan waits for their check.
    private static MihIndex? MihFor(SegmentView segment, QueryPlan plan)
    {
        if (plan == QueryPlan.Scan)
        {
            return null;
        }
        if (plan == QueryPlan.Mih)
        {
            segment.Handle.WaitForTables();
        }
        return segment.Handle.Mih;
    }

    private static SegmentShape ShapeOf(SegmentView segment, MihIndex? mih) =>
        new(segment.Reader.Rows, segment.Reader.Layout.WordsPerCode, mih is not null, mih is not null && mih.Tables[0].HasInlineCodes);

    private static string NoTablesReason(SegmentView segment, QueryPlan plan) =>
        plan == QueryPlan.Scan ? "scan forced"
        : segment.Handle.MihError is { } error ? $"MIH tables unusable: {error}"
        : segment.Reader.MihTables.Count == 0 ? "the segment has no MIH tables"
        : "MIH tables still being checked";

    // Before each MIH kNN step: stop for cancellation, and (auto) switch to the scan once the reads
    // so far plus the step are predicted to pass the scan's cost.
    private readonly struct PlannedKnn(CostModel costs, SegmentShape shape, bool auto, CancellationToken cancellationToken) : IMihKnnGovernor
    {
        public bool Proceed(in MihKnnStep upcoming, in MihCounters spent)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return !auto || Planner.KnnProceeds(costs, shape, upcoming, spent);
        }
    }

    private readonly struct LiveRows(SegmentView segment) : IRowFilter
    {
        public bool Keep(int row) => segment.IsLive(row);
    }

    private readonly struct LiveMihRadiusSink(SegmentView segment, List<Neighbor> results) : IMihRadiusSink
    {
        public List<Neighbor> Results { get; } = results;

        public void Accept(int row, int distance)
        {
            if (segment.IsLive(row))
            {
                Results.Add(new Neighbor(row, distance));
            }
        }
    }

    // Merges the hits distance by distance: the keys of one distance are decoded, sorted and produced
    // before the next distance is touched.
    private static IEnumerable<SearchResult<TKey>> RadiusResults(ViewLease view, RadiusHits hits)
    {
        var next = new int[hits.Segments.Length];
        int memtableNext = 0;
        var level = new List<KeyedNeighbor>();
        while (true)
        {
            int distance = int.MaxValue;
            for (int s = 0; s < next.Length; s++)
            {
                if (next[s] < hits.Segments[s].Length)
                {
                    distance = Math.Min(distance, hits.Segments[s][next[s]].Distance);
                }
            }
            if (memtableNext < hits.Memtable.Count)
            {
                distance = Math.Min(distance, hits.Memtable[memtableNext].Distance);
            }
            if (distance == int.MaxValue)
            {
                yield break;
            }
            level.Clear();
            for (int s = 0; s < next.Length; s++)
            {
                Neighbor[] found = hits.Segments[s];
                int end = next[s];
                while (end < found.Length && found[end].Distance == distance)
                {
                    end++;
                }
                if (end > next[s])
                {
                    var rows = new List<int>(end - next[s]);
                    for (int i = next[s]; i < end; i++)
                    {
                        rows.Add((int)found[i].Id);
                    }
                    level.AddRange(view.Segments[s].Reader.GetKeys(rows).Select(key => new KeyedNeighbor(key, distance)));
                    next[s] = end;
                }
            }
            while (memtableNext < hits.Memtable.Count && hits.Memtable[memtableNext].Distance == distance)
            {
                level.Add(hits.Memtable[memtableNext++]);
            }
            level.Sort();
            foreach (KeyedNeighbor neighbor in level)
            {
                yield return new SearchResult<TKey>(KeyCodecFor<TKey>.Decode(neighbor.Key), neighbor.Distance);
            }
        }
    }

    // Scans a segment in blocks of rows, checking for cancellation between blocks; rows stay ascending.
    private void ScanSegment<TSink>(SegmentView segment, ReadOnlySpan<ulong> query, ref TSink sink, CancellationToken cancellationToken)
        where TSink : struct, IRowBaseSink
    {
        // Blocks of 2^18 rows by default: about a millisecond at 64 bits between cancellation checks.
        CodeBlock codes = segment.Reader.Codes;
        int chunk = _database.Options.ScanChunkRows;
        for (int start = 0; start < codes.Count; start += chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            sink.RowBase = start;
            ExhaustiveSearch.Scan(codes.Slice(start, Math.Min(chunk, codes.Count - start)), query, ref sink, _database.Options.Isa);
        }
    }

    // Tells the cost feedback what a search of one segment, predicted at predictedNs by the calibration for the reads it made, took since started
    // and found.
    private static void Observe(CostFeedback feedback, CostKind kind, double predictedNs, long started, long found)
    {
        if (feedback.Learns && predictedNs >= CostFeedback.MinPredictedNs)
        {
            feedback.Observe(kind, predictedNs, Stopwatch.GetElapsedTime(started).TotalNanoseconds, found);
        }
    }

    private interface IRowBaseSink : IScanSink
    {
        int RowBase { set; }
    }

    // Pass on only the live rows of a segment, to the kernels' own collectors (rows ascend, as they assume).
    private struct LiveTopKSink(SegmentView segment, TopKCollector collector, int bound) : IRowBaseSink
    {
        public int RowBase { private get; set; }

        public readonly TopKCollector Collector => collector;

        public readonly int Limit => Math.Min(collector.Limit, bound);

        public readonly void Accept(int row, int distance)
        {
            if (segment.IsLive(RowBase + row))
            {
                collector.Offer(RowBase + row, distance);
            }
        }
    }

    private struct LiveRadiusSink(SegmentView segment, RadiusCollector collector, int radius) : IRowBaseSink
    {
        public int RowBase { private get; set; }

        public readonly Neighbor[] Sorted(int codeBits) => RadiusCollector.MergeSorted([collector], codeBits);

        public readonly int Limit => radius;

        public readonly void Accept(int row, int distance)
        {
            if (segment.IsLive(RowBase + row))
            {
                collector.Add(RowBase + row, distance);
            }
        }
    }
}
