using System.Diagnostics;
using System.Runtime.CompilerServices;
using HammingDB.Encoders.Data;
using HammingDB.Kernels;

namespace HammingDB.Encoders.Evaluation;

/// <summary>
/// Measures encoders on one dataset (the API behind <c>hdb eval</c>): for each encoder, encodes the
/// base and the queries, runs the exact Hamming k-nearest search with the kernels (ties by the
/// smaller row, as they break them), and reports recall@k against the ground truth without and with
/// rescoring (k * oversample Hamming candidates re-ranked by the float metric on the base vectors,
/// ties again by the smaller row), the label metrics of the Hamming ranking, and the encoding and
/// search times.
/// </summary>
public static class EvaluationRunner
{
    private const int WarmUpRows = 16;

    /// <summary>Evaluates every encoder of <paramref name="encoders"/> in order.</summary>
    /// <exception cref="ArgumentException">The data do not fit together (dimensions, label or ground-truth counts, ids outside the base), or the options are invalid.</exception>
    public static IReadOnlyList<EncoderEvaluation> Run(
        EvaluationData data, IReadOnlyList<NamedEncoder> encoders, EvaluationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(encoders);
        options ??= new EvaluationOptions();
        Validate(data, options);
        foreach (NamedEncoder named in encoders)
        {
            ArgumentNullException.ThrowIfNull(named);
            if (named.Encoder.Dimension != data.Base.Dimension)
            {
                throw new ArgumentException(
                    $"encoder {named.Name} takes vectors of dimension {named.Encoder.Dimension}; the data have {data.Base.Dimension}", nameof(encoders));
            }
        }
        var results = new List<EncoderEvaluation>(encoders.Count);
        foreach (NamedEncoder named in encoders)
        {
            cancellationToken.ThrowIfCancellationRequested();
            results.Add(Evaluate(data, named, options, cancellationToken));
        }
        return results;
    }

    private static EncoderEvaluation Evaluate(EvaluationData data, NamedEncoder named, EvaluationOptions options, CancellationToken cancellationToken)
    {
        VectorEncoder encoder = named.Encoder;
        int baseCount = data.Base.Count;
        int queryCount = data.Queries.Count;
        int k = options.K;

        // Warm-ups (a few rows, a few queries) so that the clock does not measure the JIT compiler.
        int warmRows = Math.Min(baseCount, WarmUpRows);
        encoder.EncodeMany(data.Base.Values.AsSpan(0, warmRows * data.Base.Dimension), warmRows);
        var clock = Stopwatch.StartNew();
        ulong[] baseWords = encoder.EncodeMany(data.Base.Values, baseCount);
        TimeSpan encodeTime = clock.Elapsed;
        ulong[] queryWords = encoder.EncodeMany(data.Queries.Values, queryCount);
        var baseCodes = new PackedCodes(encoder.Layout, baseCount);
        baseCodes.AddRange(baseWords, baseCount);
        var queryCodes = new PackedCodes(encoder.Layout, queryCount);
        queryCodes.AddRange(queryWords, queryCount);
        var search = new SearchOptions { Threads = options.Threads };
        cancellationToken.ThrowIfCancellationRequested();

        ExhaustiveSearch.KnnBatch(baseCodes.Block, queryCodes.Block.Slice(0, Math.Min(queryCount, WarmUpRows)), k, search);
        clock.Restart();
        Neighbor[][] nearest = ExhaustiveSearch.KnnBatch(baseCodes, queryCodes, k, search);
        TimeSpan searchTime = clock.Elapsed;

        double? hammingRecall = null;
        var rescored = new List<RescoredRecall>();
        if (data.GroundTruth is GroundTruth truth)
        {
            hammingRecall = RetrievalMetrics.Mean(queryCount, q => RetrievalMetrics.RecallAtK(Ids(nearest[q], k), truth.Neighbors(q), k));
            int maxCandidates = Candidates(options.Oversample.Max(), k, baseCount);
            Neighbor[][] candidates = maxCandidates <= k ? nearest : ExhaustiveSearch.KnnBatch(baseCodes, queryCodes, maxCandidates, search);
            foreach (int oversample in options.Oversample)
            {
                cancellationToken.ThrowIfCancellationRequested();
                rescored.Add(Rescore(data, truth, candidates, oversample, options));
            }
        }

        LabelQuality? labels = null;
        if (data.BaseLabels is int[] baseLabels && data.QueryLabels is int[] queryLabels)
        {
            labels = LabelMetrics(baseCodes, queryCodes, baseLabels, queryLabels, options, search, cancellationToken);
        }
        GC.KeepAlive(baseCodes);
        GC.KeepAlive(queryCodes);

        return new EncoderEvaluation
        {
            Name = named.Name,
            Kind = encoder.Kind,
            CodeBits = encoder.CodeBits,
            K = k,
            BaseCount = baseCount,
            QueryCount = queryCount,
            HammingRecall = hammingRecall,
            Rescored = rescored,
            Labels = labels,
            EncodeTime = encodeTime,
            HammingSearchTime = searchTime,
        };
    }

    // Optimized at once: the loop is timed, and tier-0 code would be what the clock measures.

    /// <summary>
    /// Re-ranks each query's first min(k * oversample, N) Hamming candidates by the float metric
    /// (ties by the smaller row) and scores the top k against the ground truth.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static RescoredRecall Rescore(EvaluationData data, GroundTruth truth, Neighbor[][] candidates, int oversample, EvaluationOptions options)
    {
        int k = options.K;
        int count = Candidates(oversample, k, data.Base.Count);
        var recalls = new double[candidates.Length];
        var clock = Stopwatch.StartNew();
        var ranked = new (double Distance, int Row)[count];
        var top = new int[k];
        for (int q = 0; q < candidates.Length; q++)
        {
            ReadOnlySpan<float> query = data.Queries.Row(q);
            int n = Math.Min(count, candidates[q].Length);
            for (int i = 0; i < n; i++)
            {
                int id = (int)candidates[q][i].Id;
                ranked[i] = (VectorDistance.Distance(options.Metric, query, data.Base.Row(id)), id);
            }
            Array.Sort(ranked, 0, n); // by distance, then row
            int kept = Math.Min(k, n);
            for (int i = 0; i < kept; i++)
            {
                top[i] = ranked[i].Row;
            }
            recalls[q] = RetrievalMetrics.RecallAtK(top.AsSpan(0, kept), truth.Neighbors(q), k);
        }
        TimeSpan time = clock.Elapsed;
        return new RescoredRecall(oversample, count, RetrievalMetrics.Mean(recalls.Length, q => recalls[q]), time);
    }

    private static LabelQuality LabelMetrics(
        PackedCodes baseCodes, PackedCodes queryCodes, int[] baseLabels, int[] queryLabels, EvaluationOptions options, SearchOptions search, CancellationToken cancellationToken)
    {
        int k = options.K;
        int baseCount = baseCodes.Count;
        int queryCount = queryCodes.Count;
        int r = Math.Max(1, Math.Min(options.MapAtR, baseCount));
        var totalRelevant = new Dictionary<int, int>();
        foreach (int label in baseLabels)
        {
            totalRelevant[label] = totalRelevant.GetValueOrDefault(label) + 1;
        }
        Neighbor[][]? prefix = options.FullRankingMap
            ? null
            : ExhaustiveSearch.KnnBatch(baseCodes, queryCodes, Math.Max(k, r), search);
        var ranking = new RankingScratch(baseCount, baseCodes.Layout.CodeBits);
        double precision = 0, mapAtR = 0, map = 0, ndcg = 0, mrr = 0;
        for (int q = 0; q < queryCount; q++)
        {
            if ((q & 63) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
            ReadOnlySpan<int> ids = prefix is null ? ranking.RankAll(baseCodes, queryCodes[q]) : Ids(prefix[q], prefix[q].Length);
            bool[] relevant = RetrievalMetrics.Relevance(ids, baseLabels, queryLabels[q]);
            ReadOnlySpan<bool> topK = relevant.AsSpan(0, Math.Min(k, relevant.Length));
            precision += RetrievalMetrics.PrecisionAtK(relevant, k);
            mapAtR += RetrievalMetrics.AveragePrecisionAtR(relevant, r);
            map += prefix is null ? RetrievalMetrics.AveragePrecision(relevant) : 0;
            ndcg += RetrievalMetrics.NdcgAtK(relevant, k, totalRelevant.GetValueOrDefault(queryLabels[q]));
            mrr += RetrievalMetrics.ReciprocalRank(topK);
        }
        return new LabelQuality(
            precision / queryCount, mapAtR / queryCount, r, prefix is null ? map / queryCount : null, ndcg / queryCount, mrr / queryCount);
    }

    private static int Candidates(int oversample, int k, int baseCount) => (int)Math.Min((long)oversample * k, baseCount);

    private static int[] Ids(Neighbor[] neighbors, int count)
    {
        var ids = new int[Math.Min(count, neighbors.Length)];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = (int)neighbors[i].Id;
        }
        return ids;
    }

    private static void Validate(EvaluationData data, EvaluationOptions options)
    {
        ArgumentNullException.ThrowIfNull(data.Base, nameof(data));
        ArgumentNullException.ThrowIfNull(data.Queries, nameof(data));
        if (options.K <= 0 || options.MapAtR <= 0 || options.Threads <= 0)
        {
            throw new ArgumentException($"K ({options.K}), MapAtR ({options.MapAtR}) and Threads ({options.Threads}) must be positive", nameof(options));
        }
        if (options.Oversample is null || options.Oversample.Count == 0 || options.Oversample.Any(o => o < 1))
        {
            throw new ArgumentException("Oversample must list at least one factor, each at least 1", nameof(options));
        }
        if (!Enum.IsDefined(options.Metric))
        {
            throw new ArgumentException($"unknown metric {options.Metric}", nameof(options));
        }
        if (data.Queries.Dimension != data.Base.Dimension)
        {
            throw new ArgumentException($"the queries have dimension {data.Queries.Dimension}; the base {data.Base.Dimension}", nameof(data));
        }
        if (data.Base.Count == 0 || data.Queries.Count == 0)
        {
            throw new ArgumentException($"the data hold {data.Base.Count} base rows and {data.Queries.Count} queries; both must be some", nameof(data));
        }
        if ((data.BaseLabels is null) != (data.QueryLabels is null))
        {
            throw new ArgumentException("labels must be given for both the base and the queries, or for neither", nameof(data));
        }
        if (data.BaseLabels is int[] baseLabels && baseLabels.Length != data.Base.Count)
        {
            throw new ArgumentException($"{baseLabels.Length} base labels for {data.Base.Count} base rows", nameof(data));
        }
        if (data.QueryLabels is int[] queryLabels && queryLabels.Length != data.Queries.Count)
        {
            throw new ArgumentException($"{queryLabels.Length} query labels for {data.Queries.Count} queries", nameof(data));
        }
        if (data.GroundTruth is GroundTruth truth)
        {
            if (truth.QueryCount != data.Queries.Count)
            {
                throw new ArgumentException($"the ground truth covers {truth.QueryCount} queries; the data hold {data.Queries.Count}", nameof(data));
            }
            if (truth.K < options.K)
            {
                throw new ArgumentException($"the ground truth lists {truth.K} neighbours per query; recall@{options.K} needs {options.K}", nameof(data));
            }
            int outside = Array.FindIndex(truth.Ids, id => id >= data.Base.Count);
            if (outside >= 0)
            {
                throw new ArgumentException(
                    $"ground truth of query {outside / truth.K}, neighbour {outside % truth.K}: row {truth.Ids[outside]} is outside the {data.Base.Count} base rows", nameof(data));
            }
        }
    }

    /// <summary>Every base row ranked for one query by (Hamming distance, row): a stable counting sort over distances 0..bits.</summary>
    private sealed class RankingScratch(int rows, int codeBits)
    {
        private readonly int[] _distances = new int[rows];
        private readonly int[] _starts = new int[codeBits + 2];
        private readonly int[] _ranked = new int[rows];

        public ReadOnlySpan<int> RankAll(PackedCodes codes, ReadOnlySpan<ulong> query)
        {
            HammingDistance.ComputeAll(codes.Block, query, _distances);
            GC.KeepAlive(codes);
            Array.Clear(_starts);
            foreach (int d in _distances)
            {
                _starts[d + 1]++;
            }
            for (int d = 1; d < _starts.Length; d++)
            {
                _starts[d] += _starts[d - 1];
            }
            for (int row = 0; row < _distances.Length; row++)
            {
                _ranked[_starts[_distances[row]]++] = row;
            }
            return _ranked;
        }
    }
}
