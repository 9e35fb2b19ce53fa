using System.Globalization;
using System.Diagnostics;
using HammingDB.Index.Mih;
using HammingDB.Kernels;
using HammingDB.Kernels.Scan;

namespace HammingDB.Query;

/// <summary>
/// Measures a <see cref="CostModel"/> on the running machine, on real tables: a few timed scans of the
/// segment's codes, and timed radius searches of its tables at several radii (the fastest of three
/// runs of each), whose times are fitted to <c>probes x ProbeNs + postings x PostingNs</c> by least
/// squares. Takes tens of milliseconds.
/// </summary>
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
            ulong[] query = codes[random.Next(codes.Count)].ToArray();
            for (int f = 0; f < 3; f++)
            {
                int bit = random.Next(layout.CodeBits);
                query[bit >> 6] ^= 1UL << (bit & 63);
            }
            queries.Add(query);
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
        var samples = new List<(double Probes, double Postings, double Ns)>();
        for (int radius = 0; radius <= layout.CodeBits; radius += Math.Max(1, index.Layout.Count / 2))
        {
            double total = 0;
            var counters = default(MihCounters);
            foreach (ulong[] query in queries)
            {
                double fastest = double.MaxValue;
                for (int pass = 0; pass < 3; pass++)
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
        (double probeNs, double postingNs) = FitNonNegative(samples, fallback.ProbeNs, index.Tables[0].HasInlineCodes ? fallback.PostingNs : fallback.WidePostingNs);
        string source = string.Create(CultureInfo.InvariantCulture,
            $"measured on {codes.Count} rows of {layout.CodeBits} bits: scan {scanRowNs:0.000} ns/row, probe {probeNs:0.0} ns, posting {postingNs:0.00} ns");
        return index.Tables[0].HasInlineCodes
            ? fallback with { ScanRowNs = scanRowNs, ScanWordNs = 0, ProbeNs = probeNs, PostingNs = postingNs, Source = source }
            : fallback with { ScanRowNs = scanRowNs, ScanWordNs = 0, ProbeNs = probeNs, WidePostingNs = postingNs, Source = source };
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
