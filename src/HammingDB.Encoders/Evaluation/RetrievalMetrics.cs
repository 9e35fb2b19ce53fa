namespace HammingDB.Encoders.Evaluation;

/// <summary>
/// Retrieval-quality metrics of one query, as pure functions, and their means over queries.
/// </summary>
/// <remarks>
/// A ranking is a list of base-row ids, best first, with ties already broken (the runner breaks
/// them by the smaller id, as the kernels do); a metric never reorders it. Label metrics take the
/// ranking's relevance: <c>relevant[i]</c> is true when item i (0-based, rank i + 1) has the
/// query's label (<see cref="Relevance"/>). Throughout, rank r = i + 1 and rel_r is 1 or 0.
/// <list type="bullet">
/// <item>recall@k = |first k retrieved ∩ first k true| / k (a list shorter than k counts its missing places as misses).</item>
/// <item>precision@k = (Σ_{r ≤ min(k, n)} rel_r) / k (the same convention: a short list is not rewarded).</item>
/// <item>AP of a list of n items = (1 / R_n) Σ_{r ≤ n} rel_r · precision@r, with R_n the relevant items in the list; 0 when R_n = 0.
/// Over the whole ranking of every base row, R_n is every relevant row (the usual mAP of the
/// hashing literature). AP@R is the AP of the first R items (the mAP@R of the hashing literature,
/// e.g. mAP@1000: normalised by the relevant items retrieved in the top R, not by all relevant rows).</item>
/// <item>NDCG@k with binary relevance = DCG@k / IDCG@k, DCG@k = Σ_{r ≤ min(k, n)} rel_r / log2(r + 1), IDCG@k the DCG of
/// min(k, total relevant) relevant items at ranks 1, 2, ...; 0 when no row is relevant.</item>
/// <item>reciprocal rank = 1 / (rank of the first relevant item in the list), 0 when none is; MRR is its mean
/// (the runner passes the first k items: MRR@k).</item>
/// </list>
/// </remarks>
public static class RetrievalMetrics
{
    /// <summary>|first k of <paramref name="retrieved"/> ∩ first k of <paramref name="truth"/>| / k.</summary>
    /// <exception cref="ArgumentException"><paramref name="truth"/> lists fewer than k ids, or <paramref name="retrieved"/> repeats an id.</exception>
    public static double RecallAtK(ReadOnlySpan<int> retrieved, ReadOnlySpan<int> truth, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        if (truth.Length < k)
        {
            throw new ArgumentException($"the ground truth lists {truth.Length} neighbours; recall@{k} needs {k}", nameof(truth));
        }
        ReadOnlySpan<int> top = retrieved[..Math.Min(k, retrieved.Length)];
        var trueSet = new HashSet<int>(k);
        foreach (int id in truth[..k])
        {
            trueSet.Add(id);
        }
        var seen = new HashSet<int>(top.Length);
        int hits = 0;
        foreach (int id in top)
        {
            if (!seen.Add(id))
            {
                throw new ArgumentException($"the retrieved list repeats id {id}", nameof(retrieved));
            }
            if (trueSet.Contains(id))
            {
                hits++;
            }
        }
        return (double)hits / k;
    }

    /// <summary>(relevant items among the first min(k, n)) / k.</summary>
    public static double PrecisionAtK(ReadOnlySpan<bool> relevant, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        return (double)CountRelevant(relevant[..Math.Min(k, relevant.Length)]) / k;
    }

    /// <summary>Average precision over the whole list: (1 / relevant in the list) Σ over relevant ranks r of precision@r; 0 when none is relevant.</summary>
    public static double AveragePrecision(ReadOnlySpan<bool> relevant)
    {
        int hits = 0;
        double sum = 0;
        for (int i = 0; i < relevant.Length; i++)
        {
            if (relevant[i])
            {
                hits++;
                sum += (double)hits / (i + 1);
            }
        }
        return hits == 0 ? 0 : sum / hits;
    }

    /// <summary>AP@R: <see cref="AveragePrecision"/> of the first <paramref name="r"/> items.</summary>
    public static double AveragePrecisionAtR(ReadOnlySpan<bool> relevant, int r)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(r);
        return AveragePrecision(relevant[..Math.Min(r, relevant.Length)]);
    }

    /// <summary>
    /// NDCG@k with binary relevance; <paramref name="totalRelevant"/> is how many base rows are
    /// relevant to the query (the ideal ranking puts min(k, that) of them first); 0 when none is.
    /// </summary>
    /// <exception cref="ArgumentException">The list holds more relevant items than <paramref name="totalRelevant"/>.</exception>
    public static double NdcgAtK(ReadOnlySpan<bool> relevant, int k, int totalRelevant)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        ArgumentOutOfRangeException.ThrowIfNegative(totalRelevant);
        if (CountRelevant(relevant) > totalRelevant)
        {
            throw new ArgumentException($"the list holds {CountRelevant(relevant)} relevant items, more than the {totalRelevant} stated", nameof(totalRelevant));
        }
        double dcg = 0;
        int n = Math.Min(k, relevant.Length);
        for (int i = 0; i < n; i++)
        {
            if (relevant[i])
            {
                dcg += 1 / Math.Log2(i + 2);
            }
        }
        double ideal = 0;
        for (int i = 0; i < Math.Min(k, totalRelevant); i++)
        {
            ideal += 1 / Math.Log2(i + 2);
        }
        return ideal == 0 ? 0 : dcg / ideal;
    }

    /// <summary>1 / (rank of the first relevant item), 0 when the list holds none.</summary>
    public static double ReciprocalRank(ReadOnlySpan<bool> relevant)
    {
        int first = relevant.IndexOf(true);
        return first < 0 ? 0 : 1.0 / (first + 1);
    }

    /// <summary>The relevance of each retrieved id: its base label equals <paramref name="queryLabel"/>.</summary>
    public static bool[] Relevance(ReadOnlySpan<int> retrieved, ReadOnlySpan<int> baseLabels, int queryLabel)
    {
        var relevant = new bool[retrieved.Length];
        for (int i = 0; i < retrieved.Length; i++)
        {
            relevant[i] = baseLabels[retrieved[i]] == queryLabel;
        }
        return relevant;
    }

    /// <summary>Mean recall@k over queries: list q is query q's retrieved ids, scored against <paramref name="truth"/>[q].</summary>
    /// <exception cref="ArgumentException">The lists differ in number, or there are none.</exception>
    public static double MeanRecallAtK(IReadOnlyList<int[]> retrieved, IReadOnlyList<int[]> truth, int k)
    {
        ArgumentNullException.ThrowIfNull(retrieved);
        ArgumentNullException.ThrowIfNull(truth);
        if (retrieved.Count != truth.Count)
        {
            throw new ArgumentException($"{retrieved.Count} retrieved lists but {truth.Count} ground-truth lists", nameof(truth));
        }
        return Mean(retrieved.Count, q => RecallAtK(retrieved[q], truth[q], k));
    }

    /// <summary>The mean of <paramref name="perQuery"/>(q) over q = 0 .. <paramref name="queries"/> - 1.</summary>
    /// <exception cref="ArgumentException">There are no queries (a mean of nothing is not 0).</exception>
    public static double Mean(int queries, Func<int, double> perQuery)
    {
        ArgumentNullException.ThrowIfNull(perQuery);
        if (queries <= 0)
        {
            throw new ArgumentException("a mean over no queries is undefined", nameof(queries));
        }
        double sum = 0;
        for (int q = 0; q < queries; q++)
        {
            sum += perQuery(q);
        }
        return sum / queries;
    }

    private static int CountRelevant(ReadOnlySpan<bool> relevant)
    {
        int count = 0;
        foreach (bool r in relevant)
        {
            count += r ? 1 : 0;
        }
        return count;
    }
}
