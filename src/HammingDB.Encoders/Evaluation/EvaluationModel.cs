using HammingDB.Encoders.Data;

namespace HammingDB.Encoders.Evaluation;

/// <summary>What an evaluation runs on: base and query vectors, and optionally labels and exact ground truth.</summary>
public sealed class EvaluationData
{
    /// <summary>The rows searched.</summary>
    public required FloatVectors Base { get; init; }

    /// <summary>The queries (the base's dimension).</summary>
    public required FloatVectors Queries { get; init; }

    /// <summary>One label per base row; with <see cref="QueryLabels"/>, enables the label metrics.</summary>
    public int[]? BaseLabels { get; init; }

    /// <summary>One label per query.</summary>
    public int[]? QueryLabels { get; init; }

    /// <summary>The exact float nearest base rows of each query (at least k per query); enables recall.</summary>
    public GroundTruth? GroundTruth { get; init; }
}

/// <summary>An encoder and the name its row carries in the report.</summary>
public sealed record NamedEncoder(string Name, VectorEncoder Encoder);

/// <summary>How an evaluation measures.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Neighbours per query.</summary>
    public int K { get; init; } = 10;

    /// <summary>Rescoring runs: k * oversample Hamming candidates re-ranked by <see cref="Metric"/> (each at least 1).</summary>
    public IReadOnlyList<int> Oversample { get; init; } = [1, 4, 10];

    /// <summary>The float metric of rescoring.</summary>
    public VectorMetric Metric { get; init; } = VectorMetric.L2;

    /// <summary>R of mAP@R (clamped to the base's rows).</summary>
    public int MapAtR { get; init; } = 1000;

    /// <summary>
    /// Whether to rank every base row for every query to report mAP over the whole ranking
    /// (queries x base distances, one query at a time); off, only mAP@R is reported.
    /// </summary>
    public bool FullRankingMap { get; init; } = true;

    /// <summary>Threads of the Hamming searches.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
}

/// <summary>The recall of one rescoring run.</summary>
/// <param name="Oversample">The factor: <paramref name="Candidates"/> = min(k * it, base rows).</param>
/// <param name="Candidates">Hamming candidates re-ranked per query.</param>
/// <param name="Recall">Mean recall@k of the re-ranked top k against the ground truth.</param>
/// <param name="RescoreTime">The time to re-rank every query's candidates (the Hamming search not included).</param>
public sealed record RescoredRecall(int Oversample, int Candidates, double Recall, TimeSpan RescoreTime);

/// <summary>Means over queries of the label metrics of the Hamming ranking (definitions: <see cref="RetrievalMetrics"/>).</summary>
/// <param name="PrecisionAtK">precision@k.</param>
/// <param name="MapAtR">mAP@R.</param>
/// <param name="R">R of <paramref name="MapAtR"/> (after clamping to the base's rows).</param>
/// <param name="Map">mAP over the whole ranking; null when not computed.</param>
/// <param name="NdcgAtK">NDCG@k with binary relevance.</param>
/// <param name="Mrr">MRR@k.</param>
public sealed record LabelQuality(double PrecisionAtK, double MapAtR, int R, double? Map, double NdcgAtK, double Mrr);

/// <summary>The measurements of one encoder.</summary>
public sealed record EncoderEvaluation
{
    /// <summary>The encoder's name.</summary>
    public required string Name { get; init; }

    /// <summary>The encoder's method.</summary>
    public required EncoderKind Kind { get; init; }

    /// <summary>The encoder's code width.</summary>
    public required int CodeBits { get; init; }

    /// <summary>Neighbours per query.</summary>
    public required int K { get; init; }

    /// <summary>Base rows searched.</summary>
    public required int BaseCount { get; init; }

    /// <summary>Queries run.</summary>
    public required int QueryCount { get; init; }

    /// <summary>Mean recall@k of the Hamming top k; null without ground truth.</summary>
    public double? HammingRecall { get; init; }

    /// <summary>Recall after rescoring, per oversample factor; empty without ground truth.</summary>
    public IReadOnlyList<RescoredRecall> Rescored { get; init; } = [];

    /// <summary>Label metrics of the Hamming ranking; null without labels.</summary>
    public LabelQuality? Labels { get; init; }

    /// <summary>The time to encode the base rows (<see cref="VectorEncoder.EncodeMany"/>, one thread, after a warm-up on a few rows).</summary>
    public required TimeSpan EncodeTime { get; init; }

    /// <summary>Base rows encoded per second.</summary>
    public double EncodeVectorsPerSecond => BaseCount / Math.Max(EncodeTime.TotalSeconds, 1e-9);

    /// <summary>The time of the exact Hamming k-nearest search of every query (one batch, after a warm-up on a few queries).</summary>
    public required TimeSpan HammingSearchTime { get; init; }
}
