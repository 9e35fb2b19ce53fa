namespace HammingDB.Index.Mih;

/// <summary>How a radius search spreads its radius over the substring tables.</summary>
public enum MihThresholds
{
    /// <summary>The refined pigeonhole rule: r = m*s + a, the first a + 1 tables probed within s, the others within s - 1.</summary>
    Pigeonhole,

    /// <summary>
    /// Per query, the thresholds t_j (-1: the table is not probed) with sum(t_j + 1) = r + 1 that are
    /// predicted to read the least, from the exact sizes of the query's buckets (the generalised pigeonhole
    /// principle, as in GPH): on skewed codes the query's crowded substrings get lower thresholds.
    /// </summary>
    Adaptive,

    /// <summary>
    /// Per query, for codes over 64 bits (candidates that may each cost a random read), adaptive thresholds when the
    /// query's home buckets hold at least <see cref="MihIndex.AdaptiveFromSkew"/> times the average bucket and the
    /// pigeonhole rule's buckets are predicted to hold at least <see cref="MihIndex.AdaptiveFromPostings"/> postings; the
    /// pigeonhole rule otherwise: choosing costs reads of every table's ball, which only crowded buckets repay.
    /// </summary>
    Auto,
}

/// <summary>Per-query threshold allocation for radius searches.</summary>
public sealed partial class MihIndex
{
    /// <summary>
    /// The most buckets whose sizes are counted to choose adaptive thresholds (every table's ball of
    /// radius s = r / m); past it a search uses the pigeonhole thresholds.
    /// </summary>
    public const long AdaptiveCountLimit = 4096;

    /// <summary>
    /// How radius searches choose the substrings' thresholds; <see cref="MihThresholds.Auto"/> by default. Choosing
    /// adaptive thresholds reads the offsets of every table's ball, which costs about a microsecond; in memory, auto took
    /// 0.72x, 0.59x and 0.62x the pigeonhole rule's time at radius 8, 12 and 16 on c256-10m (11 tables) and 1.17x at 24,
    /// 1.03-1.09x on c256-1m, 0.87-0.93x on uniform codes; on codes of one word adaptive thresholds never paid, so auto
    /// keeps the pigeonhole rule there (docs/benchmarks.md).
    /// </summary>
    public MihThresholds Thresholds { get; set; } = MihThresholds.Auto;

    /// <summary>
    /// With <see cref="MihThresholds.Auto"/>, the fewest postings the pigeonhole rule's buckets must be predicted to hold
    /// (their average size times the crowding of the query's home buckets) for a query to take adaptive thresholds.
    /// </summary>
    public int AdaptiveFromPostings { get; set; } = 128;

    /// <summary>
    /// With <see cref="MihThresholds.Auto"/>, how many times the postings of buckets of the average size the query's home
    /// buckets (one per table) must hold for it to take adaptive thresholds: buckets of even sizes leave them nothing to
    /// save (uniform 256-bit codes, 50k rows: radius 24 took 21 us with them against 6.5 us without).
    /// </summary>
    public double AdaptiveFromSkew { get; set; } = 4;

    /// <summary>What probing one bucket costs, in postings read, when adaptive thresholds are chosen.</summary>
    public double ProbeWeight { get; set; } = 8;

    /// <summary>
    /// The thresholds of a radius-<paramref name="r"/> search of <paramref name="query"/> (r at most the code width):
    /// any t_j with sum(t_j + 1) &gt;= r + 1 is exact, since a code within r of the query has some substring j
    /// within t_j (else its distance would be at least sum(t_j + 1)). Adaptive thresholds take, from t_j in
    /// -1..s+1, the allocation whose probes and postings cost least (a knapsack over the tables). The balls
    /// up to s are counted exactly; the ring s + 1 is first extrapolated from the density of the ball s and
    /// counted exactly only for the tables an allocation picks it in, then the knapsack is solved again,
    /// until every level chosen is exact. The pigeonhole allocation is among the candidates, so adaptive
    /// thresholds never predict more reads. <paramref name="estimate"/> is the exact reads of the
    /// allocation, or default when the pigeonhole rule was used without counting.
    /// </summary>
    private int[] AllocateThresholds(ReadOnlySpan<ulong> query, int r, out MihEstimate estimate)
    {
        int m = _tables.Length;
        int s = r / m;
        int a = r % m;
        var thresholds = new int[m];
        long countProbes = 0;
        for (int j = 0; j < m; j++)
        {
            thresholds[j] = j <= a ? s : s - 1;
            countProbes += BallSize(_tables[j].DirectBits, s);
        }
        estimate = default;
        if (Thresholds == MihThresholds.Pigeonhole || m == 1 || _codes.Count == 0 || countProbes > AdaptiveCountLimit || (Thresholds == MihThresholds.Auto && _inline))
        {
            return thresholds;
        }
        if (Thresholds == MihThresholds.Auto)
        {
            // The query's own buckets against buckets of the average size: a query in a dense region finds them crowded,
            // and only crowded buckets repay counting the balls. Home buckets are probed by every allocation anyway.
            long homeReads = 0;
            double homeExpected = 0;
            double ballExpected = 0;
            for (int j = 0; j < m; j++)
            {
                MihTable table = _tables[j];
                int home = table.BucketOf(query);
                homeReads += table.Offsets[home + 1] - table.Offsets[home];
                double average = (double)_codes.Count / (1L << table.DirectBits);
                homeExpected += Math.Max(average, 1); // a query near a stored code finds it in each home bucket, however sparse the table
                ballExpected += BallSize(table.DirectBits, thresholds[j]) * average;
            }
            double skew = homeReads / Math.Max(homeExpected, 1e-9);
            if (skew < AdaptiveFromSkew || skew * ballExpected < AdaptiveFromPostings)
            {
                return thresholds;
            }
        }

        // postings[j * levels + t]: the postings within t of the query's bucket in table j, t = 0..s+1; the last
        // extrapolated from the density of the ball s until counted (exactTop[j]).
        int levels = s + 2;
        int need = r + 1;
        bool small = m * levels <= 512 && m * (need + 1) <= 1024;
        Span<long> postings = small ? stackalloc long[m * levels] : new long[m * levels];
        Span<double> costs = small ? stackalloc double[m * (levels + 1)] : new double[m * (levels + 1)];
        Span<bool> exactTop = small ? stackalloc bool[m] : new bool[m];
        Span<uint> homes = small ? stackalloc uint[m] : new uint[m];
        Span<int> units = small ? stackalloc int[m] : new int[m];
        Span<double> best = small ? stackalloc double[need + 1] : new double[need + 1];
        Span<double> next = small ? stackalloc double[need + 1] : new double[need + 1];
        Span<int> pick = small ? stackalloc int[m * (need + 1)] : new int[m * (need + 1)];
        Span<int> from = small ? stackalloc int[m * (need + 1)] : new int[m * (need + 1)];
        for (int j = 0; j < m; j++)
        {
            MihTable table = _tables[j];
            homes[j] = (uint)table.BucketOf(query);
            long sum = 0;
            for (int t = 0; t <= s; t++)
            {
                sum += RingPostings(table, homes[j], t);
                postings[(j * levels) + t] = sum;
            }
            int d = table.DirectBits;
            double density = (double)sum / BallSize(d, s);
            postings[(j * levels) + s + 1] = sum + (long)Math.Ceiling(density * Binomial(d, s + 1));
            exactTop[j] = s + 1 > d; // a ring past the substring's width is empty
            // costs[j * (levels + 1) + u]: table j at t = u - 1 (nothing for u = 0).
            costs[j * (levels + 1)] = 0;
            for (int u = 1; u <= levels; u++)
            {
                costs[(j * (levels + 1)) + u] = postings[(j * levels) + u - 1] + (ProbeWeight * BallSize(d, u - 1));
            }
        }

        while (true)
        {
            Knapsack(costs, levels, need, units, best, next, pick, from);
            bool settled = true;
            for (int j = 0; j < m; j++)
            {
                if (units[j] == levels && !exactTop[j])
                {
                    postings[(j * levels) + s + 1] = postings[(j * levels) + s] + RingPostings(_tables[j], homes[j], s + 1);
                    costs[(j * (levels + 1)) + levels] = postings[(j * levels) + s + 1] + (ProbeWeight * BallSize(_tables[j].DirectBits, s + 1));
                    exactTop[j] = true;
                    settled = false;
                }
            }
            if (settled)
            {
                break;
            }
        }

        long probes = 0;
        long read = 0;
        for (int j = 0; j < m; j++)
        {
            thresholds[j] = units[j] - 1;
            if (units[j] > 0)
            {
                probes += BallSize(_tables[j].DirectBits, units[j] - 1);
                read += postings[(j * levels) + units[j] - 1];
            }
        }
        estimate = new MihEstimate(probes, read, true);
        return thresholds;
    }

    // The postings of the buckets at exactly t flips of the direct bits from home.
    private static long RingPostings(MihTable table, uint home, int t)
    {
        if (t > table.DirectBits)
        {
            return 0;
        }
        ReadOnlySpan<int> offsets = table.Offsets;
        long sum = 0;
        foreach (uint flips in new Combinations(table.DirectBits, t))
        {
            int bucket = (int)(home ^ flips);
            sum += offsets[bucket + 1] - offsets[bucket];
        }
        return sum;
    }

    // Picks units[j] = t_j + 1 in 0..levels per table, the units reaching need, at the least total of costs[j * (levels + 1) + u]
    // (best, next, pick and from are scratch space).
    private void Knapsack(ReadOnlySpan<double> costs, int levels, int need, Span<int> units, Span<double> best, Span<double> next, Span<int> pick, Span<int> from)
    {
        int m = _tables.Length;
        best.Fill(double.PositiveInfinity);
        best[0] = 0;
        for (int j = 0; j < m; j++)
        {
            next.Fill(double.PositiveInfinity);
            ReadOnlySpan<double> table = costs.Slice(j * (levels + 1), levels + 1);
            Span<int> tablePick = pick.Slice(j * (need + 1), need + 1);
            Span<int> tableFrom = from.Slice(j * (need + 1), need + 1);
            for (int b = 0; b <= need; b++)
            {
                double sofar = best[b];
                if (double.IsPositiveInfinity(sofar))
                {
                    continue;
                }
                for (int u = 0; u <= levels; u++)
                {
                    double cost = sofar + table[u];
                    int reached = Math.Min(need, b + u);
                    if (cost < next[reached])
                    {
                        next[reached] = cost;
                        tablePick[reached] = u;
                        tableFrom[reached] = b;
                    }
                }
            }
            next.CopyTo(best);
        }
        for (int j = m - 1, b = need; j >= 0; j--)
        {
            units[j] = pick[(j * (need + 1)) + b];
            b = from[(j * (need + 1)) + b];
        }
    }
}
