using System.Globalization;
using System.Diagnostics;
using HammingDB.Index.Mih;
using HammingDB.Kernels;
using HammingDB.Kernels.Scan;

namespace HammingDB.Query;

/// <summary>
/// Measures a <see cref="CostModel"/> on the running machine, on real tables: a few timed scans of the
/// segment's codes, and timed radius searches of its tables at several radii, whose times are fitted to
/// <c>probes x ProbeNs + postings x PostingNs</c> by least squares. Takes tens of milliseconds.
/// </summary>
/// <remarks>
/// Tables whose postings carry the codes (codes of one word) time each search as the fastest of three runs
/// and fit both parameters. Tables of wider codes cannot be fitted that way: their buckets hold about one
/// posting, so probes and postings grow together and the fit cannot separate them, and a search run again
/// finds the codes it read in cache, while a new query reads them from memory (c256-10m: fitted wide
/// postings of 4-80 ns from run to run, against about 400 ns per probe and posting measured at radius 48,
/// so the planner chose MIH at 3-8x the scan's time). For them the probe is timed on its own (reads of the
/// offsets of random buckets), each search runs once, on a query of its own, and only the posting is fitted.
/// </remarks>
public static class Calibration
{
    /// <summary>Rows scanned to time the scan (or the whole segment when smaller).</summary>
    private const int ScanRows = 1 << 20;

    /// <summary>
    /// Calibrates on <paramref name="index"/> over <paramref name="codes"/> (the same rows); the queries are
    /// codes of random rows with a few bits flipped (seeded by <paramref name="seed"/>). Parameters the
    /// measurement cannot determine keep the value of <paramref name="fallback"/>.
    /// </summary>
    public static CostModel Measure(MihIndex index, CodeBlock codes, IsaLevel? isa, CostModel fallback, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(fallback);
        if (codes.Count < 1024 || index.Count != codes.Count)
        {
            return fallback;
        }
        var random = new Random(seed);
        CodeLayout layout = codes.Layout;
        int words = layout.WordsPerCode;
        var queries = new List<ulong[]>();
        for (int q = 0; q < 16; q++)
        {
            queries.Add(RandomQuery(codes, random));
        }

        // The scan: the fastest of three passes over up to 2^20 rows, per row.
        CodeBlock sample = codes.Slice(0, Math.Min(codes.Count, ScanRows));
        double scanRowNs = double.MaxValue;
        for (int pass = 0; pass < 3; pass++)
        {
            var sink = new CountingSink(layout.CodeBits / 4);
            long start = Stopwatch.GetTimestamp();
            ExhaustiveSearch.Scan(sample, queries[pass], ref sink, isa);
            scanRowNs = Math.Min(scanRowNs, Stopwatch.GetElapsedTime(start).TotalNanoseconds / sample.Count);
        }

        // MIH: time radius searches at growing radii until one costs about a scan of the segment. Each
        // search is timed three times and the fastest kept, as for the scan: the model predicts a
        // steady state, not the first touch of a table's pages just mapped or just checked.
        double scanNs = scanRowNs * codes.Count;
        bool inline = index.Tables[0].HasInlineCodes;
        int passes = inline ? 3 : 1;
        double measuredProbeNs = inline ? double.NaN : MeasureProbeNs(index, random);
        var samples = new List<(double Probes, double Postings, double Ns)>();
        for (int radius = 0; radius <= layout.CodeBits; radius += Math.Max(1, index.Layout.Count / 2))
        {
            double total = 0;
            var counters = default(MihCounters);
            if (!inline)
            {
                var warm = new DiscardSink();
                var ignored = default(MihCounters);
                index.Radius(RandomQuery(codes, random), radius, ref warm, ref ignored); // compiles this radius's paths untimed
                for (int q = 0; q < queries.Count; q++)
                {
                    queries[q] = RandomQuery(codes, random); // a new query per radius: its buckets and codes are not in cache
                }
            }
            foreach (ulong[] query in queries)
            {
                double fastest = double.MaxValue;
                for (int pass = 0; pass < passes; pass++)
                {
                    var sink = new DiscardSink();
                    var once = default(MihCounters);
                    long start = Stopwatch.GetTimestamp();
                    index.Radius(query, radius, ref sink, ref once);
                    fastest = Math.Min(fastest, Stopwatch.GetElapsedTime(start).TotalNanoseconds);
                    if (pass == 0)
                    {
                        counters.Probes += once.Probes;
                        counters.Postings += once.Postings;
                    }
                }
                total += fastest;
            }
            samples.Add((counters.Probes / (double)queries.Count, counters.Postings / (double)queries.Count, total / queries.Count));
            if (total / queries.Count > scanNs)
            {
                break;
            }
        }
        (double probeNs, double postingNs) = inline
            ? FitNonNegative(samples, fallback.ProbeNs, fallback.PostingNs)
            : (measuredProbeNs, FitPostings(samples, measuredProbeNs, fallback.WidePostingNs));
        string source = string.Create(CultureInfo.InvariantCulture,
            $"measured on {codes.Count} rows of {layout.CodeBits} bits: scan {scanRowNs:0.000} ns/row, probe {probeNs:0.0} ns, posting {postingNs:0.00} ns");
        return inline
            ? fallback with { ScanRowNs = scanRowNs, ScanWordNs = 0, ProbeNs = probeNs, PostingNs = postingNs, Source = source }
            : fallback with { ScanRowNs = scanRowNs, ScanWordNs = 0, ProbeNs = probeNs, WidePostingNs = postingNs, Source = source };
    }

    // The code of a random row with 3 bits flipped.
    private static ulong[] RandomQuery(CodeBlock codes, Random random)
    {
        ulong[] query = codes[random.Next(codes.Count)].ToArray();
        for (int f = 0; f < 3; f++)
        {
            int bit = random.Next(codes.Layout.CodeBits);
            query[bit >> 6] ^= 1UL << (bit & 63);
        }
        return query;
    }

    /// <summary>
    /// What probing a bucket costs: reading the two offsets of random buckets of the tables (as a search reads
    /// them, independent reads the CPU may overlap), the fastest of three passes over fresh buckets.
    /// </summary>
    private static double MeasureProbeNs(MihIndex index, Random random)
    {
        const int Buckets = 1 << 13;
        var picks = new (int Table, int Bucket)[Buckets];
        double fastest = double.MaxValue;
        long sum = 0;
        // Mapped tables fault each page in at its first touch (about 0.5-1 us, measured as probes of 770 ns on c256-10m in
        // a new process), which a running database pays once: touch one offset per page first.
        foreach (MihTable table in index.Tables)
        {
            ReadOnlySpan<int> offsets = table.Offsets;
            for (int i = 0; i < offsets.Length; i += 1024)
            {
                sum += offsets[i];
            }
        }
        for (int pass = 0; pass < 3; pass++)
        {
            for (int i = 0; i < Buckets; i++)
            {
                int table = random.Next(index.Tables.Count);
                picks[i] = (table, random.Next(1 << index.Tables[table].DirectBits));
            }
            long start = Stopwatch.GetTimestamp();
            foreach ((int table, int bucket) in picks)
            {
                ReadOnlySpan<int> offsets = index.Tables[table].Offsets;
                sum += offsets[bucket + 1] - offsets[bucket];
            }
            fastest = Math.Min(fastest, Stopwatch.GetElapsedTime(start).TotalNanoseconds / Buckets);
        }
        GC.KeepAlive(sum);
        return fastest;
    }

    /// <summary>
    /// Least squares of ns - probeNs x probes = c + b x postings: b, when positive, else <paramref name="fallbackPosting"/>.
    /// The intercept c takes what every search costs whatever it reads (the query's copy, the thresholds), which the
    /// scan pays too; without it, searches of a few postings put that cost on each posting (a 50k-row segment of
    /// 256-bit codes: 1.8 us a posting).
    /// </summary>
    internal static double FitPostings(IReadOnlyList<(double Probes, double Postings, double Ns)> samples, double probeNs, double fallbackPosting)
    {
        if (samples.Count < 2)
        {
            return fallbackPosting;
        }
        double meanQ = samples.Average(s => s.Postings);
        double meanY = samples.Average(s => s.Ns - (probeNs * s.Probes));
        double qq = 0, qy = 0;
        foreach ((double p, double q, double t) in samples)
        {
            qq += (q - meanQ) * (q - meanQ);
            qy += (q - meanQ) * (t - (probeNs * p) - meanY);
        }
        return qq > 0 && qy > 0 ? qy / qq : fallbackPosting;
    }

    /// <summary>Least squares of ns = a x probes + b x postings with a, b &gt; 0; a parameter that comes out non-positive is fitted alone or kept from the fallback.</summary>
    internal static (double ProbeNs, double PostingNs) FitNonNegative(IReadOnlyList<(double Probes, double Postings, double Ns)> samples, double fallbackProbe, double fallbackPosting)
    {
        double pp = 0, qq = 0, pq = 0, pt = 0, qt = 0;
        foreach ((double p, double q, double t) in samples)
        {
            pp += p * p;
            qq += q * q;
            pq += p * q;
            pt += p * t;
            qt += q * t;
        }
        double det = (pp * qq) - (pq * pq);
        if (det > 1e-9 * pp * qq)
        {
            double a = ((pt * qq) - (qt * pq)) / det;
            double b = ((qt * pp) - (pt * pq)) / det;
            if (a > 0 && b > 0)
            {
                return (a, b);
            }
        }
        // One parameter alone, the other kept.
        if (qq > 0)
        {
            double b = (qt - (fallbackProbe * pq)) / qq;
            if (b > 0)
            {
                return (fallbackProbe, b);
            }
        }
        return (fallbackProbe, fallbackPosting);
    }

    private struct CountingSink(int limit) : IScanSink
    {
        public int Hits { get; private set; }

        public readonly int Limit => limit;

        public void Accept(int row, int distance) => Hits++;
    }

    private readonly struct DiscardSink : IMihRadiusSink
    {
        public void Accept(int row, int distance)
        {
        }
    }
}
