namespace HammingDB;

/// <summary>How a search reads the sealed segments.</summary>
public enum QueryPlan
{
    /// <summary>The planner chooses per segment and per query (the default).</summary>
    Auto,

    /// <summary>Multi-index hashing wherever a segment has tables (the scan elsewhere).</summary>
    Mih,

    /// <summary>The exhaustive scan everywhere.</summary>
    Scan,
}

/// <summary>
/// What one search did: per segment the plan chosen, the planner's estimates and the actual reads,
/// and the memtable's scan. Answers do not depend on the plan.
/// </summary>
/// <param name="Operation">"knn" or "radius".</param>
/// <param name="K">k of a kNN search.</param>
/// <param name="Radius">The radius of a radius search.</param>
/// <param name="Requested">The plan asked for.</param>
/// <param name="CostModel">Where the planner's figures came from ("defaults", or the calibration).</param>
/// <param name="Segments">One entry per sealed segment, in search order.</param>
/// <param name="MemtableRows">Rows of the memtable scanned.</param>
/// <param name="Results">Results returned.</param>
/// <param name="Elapsed">Time of the whole search, results' keys included.</param>
public sealed record QueryExplanation(string Operation, int? K, int? Radius, QueryPlan Requested, string CostModel,
    IReadOnlyList<SegmentExplanation> Segments, long MemtableRows, int Results, TimeSpan Elapsed);

/// <summary>How one segment was searched.</summary>
/// <param name="FileNumber">The segment's file number.</param>
/// <param name="Rows">Rows the segment stores (deleted ones included).</param>
/// <param name="Tables">MIH tables (substrings) the segment has; 0 for none.</param>
/// <param name="Plan">"mih", "scan", or "mih+scan" (a kNN search that switched to the scan mid-query).</param>
/// <param name="Reason">Why the planner chose it.</param>
/// <param name="EstimatedMihMicroseconds">The planner's MIH estimate (NaN when not estimated).</param>
/// <param name="EstimatedScanMicroseconds">The planner's scan estimate.</param>
/// <param name="Probes">Buckets probed.</param>
/// <param name="Candidates">Postings examined (candidate rows before verification).</param>
/// <param name="Rings">kNN rings (one table's ring each) run by MIH.</param>
/// <param name="RowsScanned">Rows the scan read.</param>
/// <param name="Found">Rows this segment contributed before the merge across segments.</param>
/// <param name="Elapsed">Time spent on the segment.</param>
public sealed record SegmentExplanation(long FileNumber, long Rows, int Tables, string Plan, string Reason,
    double EstimatedMihMicroseconds, double EstimatedScanMicroseconds, long Probes, long Candidates, int Rings, long RowsScanned, int Found, TimeSpan Elapsed);
