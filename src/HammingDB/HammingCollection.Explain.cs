using System.Diagnostics;
using HammingDB.Index.Mih;

namespace HammingDB;

// Explain: run a search with a trace of what each segment did.
public sealed partial class HammingCollection<TKey>
{
    /// <summary>Runs a kNN search and tells, per segment, the plan chosen, the estimates and the actual reads.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is not positive.</exception>
    /// <exception cref="ArgumentException">The query is not a code of this collection's width.</exception>
    public QueryExplanation ExplainKnn(ReadOnlySpan<ulong> query, int k, QueryPlan plan = QueryPlan.Auto)
    {
        ValidateKnn(query, k);
        long started = Stopwatch.GetTimestamp();
        var trace = new QueryTrace();
        using ViewLease view = _runtime.Lease();
        int results = KnnCore(view, query, k, plan, trace, CancellationToken.None).Count;
        return new QueryExplanation("knn", k, null, plan, trace.Model, trace.Segments, view.Memtable.Rows, results, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>Runs a radius search and tells, per segment, the plan chosen, the estimates and the actual reads.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="radius"/> is negative.</exception>
    /// <exception cref="ArgumentException">The query is not a code of this collection's width.</exception>
    public QueryExplanation ExplainRadius(ReadOnlySpan<ulong> query, int radius, QueryPlan plan = QueryPlan.Auto)
    {
        ValidateRadius(query, radius);
        long started = Stopwatch.GetTimestamp();
        var trace = new QueryTrace();
        using ViewLease view = _runtime.Lease();
        int results = RadiusResults(view, RadiusCore(view, query, radius, plan, trace, CancellationToken.None)).Count();
        return new QueryExplanation("radius", null, radius, plan, trace.Model, trace.Segments, view.Memtable.Rows, results, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// Waits until the MIH tables of every segment there is now have been checked (usable, or found
    /// damaged and left unused) and the planner's cost model has been calibrated on them. Searches
    /// before that are exact too, but may scan segments whose tables are still being checked and
    /// plan with the default costs; call this after open when the first queries should be planned
    /// as later ones are.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public void WaitForTables(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using ViewLease view = _runtime.Lease();
        foreach (SegmentView segment in view.Segments)
        {
            segment.Handle.WaitForTables(cancellationToken);
        }
        _runtime.CalibrateIfNeeded(view.Segments, _database.Options.Isa);
        _runtime.WaitForCalibration(cancellationToken);
    }

    /// <summary>Plans with <paramref name="model"/> from now on, never calibrating (tests).</summary>
    internal void UseCostModel(Query.CostModel model, bool learns = false) => _runtime.PinCosts(model, learns);

    /// <summary>Plans with <paramref name="model"/> as if a calibration had measured it: corrected, and replaced when the searches drift from it (tests).</summary>
    internal void UseCalibratedCostModel(Query.CostModel model, long recalibrateAfterMs) => _runtime.ReplaceCalibration(model, recalibrateAfterMs);

    /// <summary>What each segment of one search did, in order.</summary>
    private sealed class QueryTrace
    {
        public List<SegmentExplanation> Segments { get; } = [];

        /// <summary>Where the figures of the cost model the search planned with came from.</summary>
        public string Model { get; private set; } = "";

        public void UseModel(string model) => Model = model;

        public void Add(SegmentView segment, MihIndex? mih, string plan, string reason, double mihNs, double scanNs, MihCounters counters, long rowsScanned, int found, long started) =>
            Segments.Add(new SegmentExplanation(segment.FileNumber, segment.Reader.Rows, mih?.Tables.Count ?? segment.Reader.MihTables.Count, plan, reason,
                mihNs / 1000, scanNs / 1000, counters.Probes, counters.Postings, counters.Rings, rowsScanned, found, Stopwatch.GetElapsedTime(started)));
    }
}
