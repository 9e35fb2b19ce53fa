using HammingDB.Index.Mih;

namespace HammingDB.Query;

/// <summary>How one segment is searched.</summary>
public enum SegmentPlan
{
    /// <summary>The exhaustive popcount scan of every row.</summary>
    Scan,

    /// <summary>Multi-index hashing: probe the substring tables, verify the candidates.</summary>
    Mih,
}

/// <summary>A segment as the planner sees it.</summary>
/// <param name="Rows">Rows in the segment (deleted ones included: both plans read them).</param>
/// <param name="Words">64-bit words per code.</param>
/// <param name="HasTables">Whether the segment has MIH tables.</param>
/// <param name="InlineCodes">Whether its postings carry the codes (codes of one word).</param>
public readonly record struct SegmentShape(long Rows, int Words, bool HasTables, bool InlineCodes);

/// <summary>A planning decision with the estimates it rests on.</summary>
/// <remarks>The planner's own choices word their <see cref="Reason"/> only when it is read (Explain): a query of a
/// microsecond should not pay for formatting it.</remarks>
public readonly record struct PlanChoice
{
    private readonly string? _reason;
    private readonly MihEstimate _estimate;

    /// <summary>A decision with its reason in words.</summary>
    public PlanChoice(SegmentPlan plan, double mihNs, double scanNs, string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        (Plan, MihNs, ScanNs, _reason) = (plan, mihNs, scanNs, reason);
    }

    /// <summary>A decision between the predicted costs of the two plans, <paramref name="estimate"/> being MIH's predicted reads.</summary>
    public PlanChoice(SegmentPlan plan, double mihNs, double scanNs, MihEstimate estimate) =>
        (Plan, MihNs, ScanNs, _estimate) = (plan, mihNs, scanNs, estimate);

    /// <summary>The chosen plan.</summary>
    public SegmentPlan Plan { get; }

    /// <summary>The predicted MIH time (NaN when it was not estimated).</summary>
    public double MihNs { get; }

    /// <summary>The predicted scan time.</summary>
    public double ScanNs { get; }

    /// <summary>Why, in words, for Explain.</summary>
    public string Reason => _reason ??
        $"{(Plan == SegmentPlan.Mih ? "MIH" : "scan")} predicted cheaper ({_estimate.Probes} probes, {_estimate.Postings} postings, {(_estimate.Exact ? "exact bucket sizes" : "average bucket size")})";
}

/// <summary>
/// The query planner: pure functions of a cost model, a segment's shape and the exact reads the
/// tables predict for the query. Nothing here measures or reads a file.
/// </summary>
public static class Planner
{
    /// <summary>
    /// The most buckets worth counting exactly before a radius decision: past it the probes alone
    /// are predicted dearer than the scan, so the average bucket size is estimate enough. Counting
    /// reads two offsets per bucket, less than probing it, so it never costs more than the scan.
    /// </summary>
    public static long MaxProbesToCount(CostModel model, SegmentShape shape)
    {
        ArgumentNullException.ThrowIfNull(model);
        return (long)Math.Min(long.MaxValue / 2, model.ScanNs(shape.Rows, shape.Words) / model.ProbeNs);
    }

    /// <summary>
    /// Counting the exact bucket sizes may cost at most 1/CountingShare of the scan. At a quarter, the queries near the
    /// crossover paid for counting whichever plan they then took: on u64-10m at radius 16 each query counted 4.6k buckets
    /// (predicted 0.28 ms, a tenth of the scan) and auto took 1.18x the faster plan. The posting budget
    /// (<see cref="PostingBudget"/>) still stops a MIH search whose buckets hold far more than the average predicted.
    /// </summary>
    public const double CountingShare = 16;

    /// <summary>
    /// Whether the average-bucket estimate <paramref name="average"/> leaves the choice open, so the
    /// exact bucket sizes are worth counting: MIH predicted at more than a quarter of the scan, and
    /// counting (about the probes' cost) at most a sixteenth of it, since a query that then scans pays
    /// both (c256-10m radius 48: counting 73k buckets took about as long as the scan). Otherwise the
    /// average decides (skewed buckets are caught by <see cref="PostingBudget"/> while MIH runs).
    /// </summary>
    public static bool CountExactly(CostModel model, SegmentShape shape, MihEstimate average)
    {
        ArgumentNullException.ThrowIfNull(model);
        double scan = model.ScanNs(shape.Rows, shape.Words);
        return model.MihNs(average.Probes, average.Postings, shape.InlineCodes) > scan / 4 && average.Probes * model.ProbeNs <= scan / CountingShare;
    }

    /// <summary>The postings a radius search by MIH may read before it gives up for the scan: as many as the scan's predicted time pays for.</summary>
    public static long PostingBudget(CostModel model, SegmentShape shape)
    {
        ArgumentNullException.ThrowIfNull(model);
        double perPosting = shape.InlineCodes ? model.PostingNs : model.WidePostingNs;
        return (long)Math.Min(long.MaxValue / 2, model.ScanNs(shape.Rows, shape.Words) / perPosting);
    }

    /// <summary>Chooses between MIH and the scan for a radius search of one segment, given the probes and postings the tables predict.</summary>
    public static PlanChoice ChooseRadius(CostModel model, SegmentShape shape, MihEstimate estimate)
    {
        ArgumentNullException.ThrowIfNull(model);
        double scan = model.ScanNs(shape.Rows, shape.Words);
        if (!shape.HasTables)
        {
            return new PlanChoice(SegmentPlan.Scan, double.NaN, scan, "no MIH tables");
        }
        double mih = model.MihNs(estimate.Probes, estimate.Postings, shape.InlineCodes);
        return new PlanChoice(mih <= scan ? SegmentPlan.Mih : SegmentPlan.Scan, mih, scan, estimate);
    }

    /// <summary>
    /// Whether a kNN search by MIH should run its next step (a ring of one table) or stop and scan
    /// the segment instead: it goes on while what it has read plus the step's expected reads stay
    /// within the predicted scan, so a search that ends up scanning costs at most about twice the scan.
    /// </summary>
    public static bool KnnProceeds(CostModel model, SegmentShape shape, in MihKnnStep upcoming, in MihCounters spent)
    {
        ArgumentNullException.ThrowIfNull(model);
        double scan = model.ScanNs(shape.Rows, shape.Words);
        double sofar = model.MihNs(spent.Probes, spent.Postings, shape.InlineCodes);
        double step = model.MihNs(upcoming.Probes, upcoming.ExpectedPostings, shape.InlineCodes);
        return sofar + step <= scan;
    }
}
