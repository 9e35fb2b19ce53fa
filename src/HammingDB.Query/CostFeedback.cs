using System.Globalization;

namespace HammingDB.Query;

/// <summary>The kind of search an observation of <see cref="CostFeedback"/> times.</summary>
public enum CostKind
{
    /// <summary>A segment scanned (radius or kNN).</summary>
    Scan,

    /// <summary>A radius search of a segment's MIH tables.</summary>
    MihRadius,

    /// <summary>A kNN search of a segment's MIH tables.</summary>
    MihKnn,
}

/// <summary>
/// Corrects a calibrated <see cref="CostModel"/> by what the searches themselves take. Each search of a
/// segment reports the calibrated model's prediction for the reads it actually made and the time it took;
/// per kind of search a factor follows the recent ratio of the two, and <see cref="Radius"/> and
/// <see cref="Knn"/> are the calibrated model scaled by those factors (MIH figures by the MIH factor of the
/// search, scan figures by the scan's).
/// </summary>
/// <remarks>
/// <para>Why: a calibration is a few tens of milliseconds of one moment. Measured on the development machines,
/// calibrations of the same 10M x 256-bit segment in different processes put a posting at 55 to 860 ns and a
/// probe at 90 to 1,078 ns (episodes in which memory-bound work runs 2-5x slower); the planner kept those
/// figures for the life of the process and chose the slower plan at up to 2.6x near the crossover.</para>
/// <para>The factor of a kind is the weighted geometric mean of its recent ratios (observed / predicted),
/// shrunk towards 1 (the calibration) by a prior worth <see cref="PriorWeight"/> observations; each observation
/// ages the evidence of its own kind by <see cref="Decay"/> (about the last 64 count). A kind's evidence does not
/// age while the other kinds run: the planner may stop choosing a kind whose factor says it is dear, and that
/// factor must not drift back to a calibration that was wrong (a first version aged all kinds at every
/// observation: on c256-10m, after a pass of scans, the MIH factor went from 0.27 back to 0.45 of a calibration
/// that had put a posting at 645 ns, and radius 44 scanned at 1.6x MIH's time). When a factor with enough
/// evidence leaves [1/<see cref="MaxDrift"/>, <see cref="MaxDrift"/>] the calibration itself is off (or the
/// machine changed), and <see cref="Drifted"/> asks for a new one. Ratios are clamped to [1/<see cref="MaxFactor"/>, <see cref="MaxFactor"/>] and
/// averaged in logarithms: one stalled search (a page fault, a pause) moves a factor by a few percent. Searches
/// predicted under <see cref="MinPredictedNs"/> are not counted (their fixed costs, which the model leaves out,
/// dominate them, and no choice between plans is close there); larger ones weigh up to 1 at
/// <see cref="FullWeightNs"/>. Nor are searches that found more than one row per <see cref="NsPerFoundRow"/> of their
/// prediction: collecting and sorting their rows, which both plans pay alike and the model leaves out, then takes a
/// large part of their time (u64-10m radius 24, 300k rows a query: scans at 7.7x their prediction).</para>
/// <para>Thread-safe: observations take a lock (only searches of tens of microseconds or more observe);
/// readers see the corrected models through one volatile reference.</para>
/// </remarks>
public sealed class CostFeedback
{
    /// <summary>Predictions below this many nanoseconds are not counted.</summary>
    public const double MinPredictedNs = 20_000;

    /// <summary>The prediction at which an observation weighs 1 (smaller ones weigh in proportion).</summary>
    public const double FullWeightNs = 200_000;

    /// <summary>What the evidence keeps of itself at each observation: about the last 64 observations count.</summary>
    public const double Decay = 63.0 / 64.0;

    /// <summary>The factor beyond which (either way) <see cref="Drifted"/> asks for a new calibration.</summary>
    public const double MaxDrift = 3;

    /// <summary>The evidence (in observations of full weight) a factor needs before it counts as drifted.</summary>
    public const double DriftEvidence = 16;

    /// <summary>The calibration's weight, in observations of full weight.</summary>
    public const double PriorWeight = 2;

    /// <summary>A search that found more rows than its prediction over this is not counted.</summary>
    public const double NsPerFoundRow = 1000;

    /// <summary>The largest correction either way.</summary>
    public const double MaxFactor = 16;

    private static readonly int Kinds = Enum.GetValues<CostKind>().Length;

    private readonly object _gate = new();
    private readonly double[] _weight = new double[Kinds];
    private readonly double[] _logSum = new double[Kinds];
    private volatile Corrected _corrected;
    private volatile bool _drifted;

    /// <summary>Starts from <paramref name="calibrated"/>; with <paramref name="learns"/> false the observations are ignored (a pinned model).</summary>
    public CostFeedback(CostModel calibrated, bool learns = true)
    {
        ArgumentNullException.ThrowIfNull(calibrated);
        Calibrated = calibrated;
        Learns = learns;
        _corrected = new Corrected(calibrated, calibrated, 1, 1, 1, 0);
    }

    /// <summary>The model the observations are predicted by and the corrections scale.</summary>
    public CostModel Calibrated { get; }

    /// <summary>Whether observations correct the model.</summary>
    public bool Learns { get; }

    /// <summary>The model for radius searches: MIH figures by the radius factor, the scan's by the scan factor.</summary>
    public CostModel Radius => _corrected.Radius;

    /// <summary>The model for kNN searches: MIH figures by the kNN factor, the scan's by the scan factor.</summary>
    public CostModel Knn => _corrected.Knn;

    /// <summary>The current factor of <paramref name="kind"/> (1: the calibration as it is).</summary>
    public double Factor(CostKind kind) => kind switch
    {
        CostKind.Scan => _corrected.Scan,
        CostKind.MihRadius => _corrected.MihRadius,
        CostKind.MihKnn => _corrected.MihKnn,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// Whether some kind's factor, on at least <see cref="DriftEvidence"/> observations, went beyond <see cref="MaxDrift"/>
    /// either way: the calibration is off, and a new one should replace this feedback.
    /// </summary>
    public bool Drifted => _drifted;

    /// <summary>Observations counted so far.</summary>
    public long Observations => _corrected.Observations;

    /// <summary>
    /// Records one search of <paramref name="kind"/> that <see cref="Calibrated"/> predicts at <paramref name="predictedNs"/> for the
    /// reads it made, and that took <paramref name="observedNs"/> and found <paramref name="found"/> rows. Returns whether it was counted.
    /// </summary>
    public bool Observe(CostKind kind, double predictedNs, double observedNs, long found = 0)
    {
        if (!Learns || !(predictedNs >= MinPredictedNs) || !(observedNs > 0) || double.IsInfinity(predictedNs) || double.IsInfinity(observedNs)
            || found * NsPerFoundRow > predictedNs)
        {
            return false;
        }
        double ratio = Math.Clamp(observedNs / predictedNs, 1 / MaxFactor, MaxFactor);
        double weight = Math.Min(1, predictedNs / FullWeightNs);
        lock (_gate)
        {
            int k = (int)kind;
            _weight[k] = (_weight[k] * Decay) + weight;
            _logSum[k] = (_logSum[k] * Decay) + (weight * Math.Log(ratio));
            if (_weight[k] >= DriftEvidence && Math.Abs(Math.Log(FactorOf(kind))) > Math.Log(MaxDrift))
            {
                _drifted = true;
            }
            double scan = FactorOf(CostKind.Scan), radius = FactorOf(CostKind.MihRadius), knn = FactorOf(CostKind.MihKnn);
            long observations = _corrected.Observations + 1;
            _corrected = new Corrected(Scaled(radius, scan), Scaled(knn, scan), scan, radius, knn, observations);
        }
        return true;
    }

    // The prior counts as PriorWeight observations of ratio 1 (log 0).
    private double FactorOf(CostKind kind) => Math.Exp(_logSum[(int)kind] / (PriorWeight + _weight[(int)kind]));

    /// <summary>
    /// Where the figures of <see cref="Radius"/> (<paramref name="knn"/> false) or <see cref="Knn"/> come from, in words: the
    /// calibration's source, then the correction (worded when asked, not at every observation).
    /// </summary>
    public string Describe(bool knn)
    {
        Corrected corrected = _corrected;
        return corrected.Observations == 0
            ? Calibrated.Source
            : string.Create(CultureInfo.InvariantCulture,
                $"{Calibrated.Source}; corrected by {corrected.Observations} searches timed: MIH x{(knn ? corrected.MihKnn : corrected.MihRadius):0.00}, scan x{corrected.Scan:0.00}");
    }

    private CostModel Scaled(double mih, double scan) => Calibrated with
    {
        ScanRowNs = Calibrated.ScanRowNs * scan,
        ScanWordNs = Calibrated.ScanWordNs * scan,
        ProbeNs = Calibrated.ProbeNs * mih,
        PostingNs = Calibrated.PostingNs * mih,
        WidePostingNs = Calibrated.WidePostingNs * mih,
    };

    private sealed record Corrected(CostModel Radius, CostModel Knn, double Scan, double MihRadius, double MihKnn, long Observations);
}
