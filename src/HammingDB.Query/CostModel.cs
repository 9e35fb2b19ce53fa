namespace HammingDB.Query;

/// <summary>
/// What reading costs on this machine, in nanoseconds: the planner's only input besides the
/// segment and the query. <see cref="Planner"/> predicts
/// <c>scan = rows x (ScanRowNs + ScanWordNs x words)</c> and
/// <c>MIH = probes x ProbeNs + postings x PostingNs</c> (inline postings, codes of one word) or
/// <c>+ postings x WidePostingNs</c> (wider codes, read from the segment at their row).
/// </summary>
/// <param name="ScanRowNs">Per row scanned, whatever its width.</param>
/// <param name="ScanWordNs">Per 64-bit word of a row scanned.</param>
/// <param name="ProbeNs">Per bucket probed (two offsets read, usually cache misses).</param>
/// <param name="PostingNs">Per posting verified from the inline code.</param>
/// <param name="WidePostingNs">Per posting verified from the code at its row (a random read).</param>
/// <param name="Source">Where the figures come from ("defaults" or what was measured).</param>
public sealed record CostModel(double ScanRowNs, double ScanWordNs, double ProbeNs, double PostingNs, double WidePostingNs, string Source)
{
    /// <summary>
    /// Figures measured on the development machines (AMD EPYC, AVX-512 nibble-LUT scan, 10M-row
    /// segments), used until a calibration on the running machine is ready.
    /// </summary>
    public static CostModel Defaults { get; } = new(0.05, 0.25, 60, 2.0, 40, "defaults");

    /// <summary>The predicted time of scanning <paramref name="rows"/> codes of <paramref name="words"/> words.</summary>
    public double ScanNs(long rows, int words) => rows * (ScanRowNs + (ScanWordNs * words));

    /// <summary>The predicted time of probing <paramref name="probes"/> buckets and verifying <paramref name="postings"/> postings.</summary>
    public double MihNs(long probes, double postings, bool inlineCodes) =>
        (probes * ProbeNs) + (postings * (inlineCodes ? PostingNs : WidePostingNs));
}
