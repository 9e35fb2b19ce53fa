using System.Runtime.CompilerServices;
using HammingDB.Encoders;
using HammingDB.Encoders.Data;
using HammingDB.Encoders.Evaluation;
using Xunit.Abstractions;

namespace HammingDB.Tests.Encoders;

public class EvaluationTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-12;

    // ---- metrics on hand-computed examples ----

    [Fact]
    public void Recall_at_k_is_the_overlap_of_the_first_k_over_k()
    {
        // truth top 3 = {2, 7, 5}; retrieved top 3 = {5, 2, 9}: 2 of 3.
        Assert.Equal(2.0 / 3, RetrievalMetrics.RecallAtK([5, 2, 9, 7], [2, 7, 5, 1], 3), Tolerance);
        // Order inside the top k does not matter; what is past k does not count.
        Assert.Equal(1.0, RetrievalMetrics.RecallAtK([5, 7, 2], [2, 7, 5], 3), Tolerance);
        Assert.Equal(0.5, RetrievalMetrics.RecallAtK([2, 9, 7], [2, 7, 5], 2), Tolerance);
        // k larger than the list: the missing places are misses.
        Assert.Equal(1.0 / 3, RetrievalMetrics.RecallAtK([2], [2, 7, 5], 3), Tolerance);
        Assert.Equal(0.0, RetrievalMetrics.RecallAtK([], [2, 7, 5], 3), Tolerance);
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.RecallAtK([1, 2], [1, 2], 3));
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.RecallAtK([1, 1], [1, 2], 2));
    }

    [Fact]
    public void Precision_at_k_counts_relevant_among_the_first_k_over_k()
    {
        bool[] relevant = [true, false, true, true, false];
        Assert.Equal(2.0 / 3, RetrievalMetrics.PrecisionAtK(relevant, 3), Tolerance);
        Assert.Equal(1.0, RetrievalMetrics.PrecisionAtK(relevant, 1), Tolerance);
        // k larger than the list: divided by k.
        Assert.Equal(3.0 / 10, RetrievalMetrics.PrecisionAtK(relevant, 10), Tolerance);
        Assert.Equal(0.0, RetrievalMetrics.PrecisionAtK([false, false], 2), Tolerance);
    }

    [Fact]
    public void Average_precision_averages_precision_at_each_relevant_rank()
    {
        bool[] relevant = [true, false, true, false, false, true];
        // Relevant at ranks 1, 3, 6: (1/1 + 2/3 + 3/6) / 3.
        Assert.Equal((1 + 2.0 / 3 + 0.5) / 3, RetrievalMetrics.AveragePrecision(relevant), Tolerance);
        // AP@3: ranks 1 and 3 are in; normalised by the 2 relevant retrieved.
        Assert.Equal((1 + 2.0 / 3) / 2, RetrievalMetrics.AveragePrecisionAtR(relevant, 3), Tolerance);
        // R larger than the list: the whole list.
        Assert.Equal(RetrievalMetrics.AveragePrecision(relevant), RetrievalMetrics.AveragePrecisionAtR(relevant, 100), Tolerance);
        // No relevant item: 0, also when the only relevant item is past R.
        Assert.Equal(0.0, RetrievalMetrics.AveragePrecision([false, false, false]), Tolerance);
        Assert.Equal(0.0, RetrievalMetrics.AveragePrecisionAtR([false, false, true], 2), Tolerance);
        Assert.Equal(0.0, RetrievalMetrics.AveragePrecision([]), Tolerance);
        Assert.Equal(1.0, RetrievalMetrics.AveragePrecision([true, true, false]), Tolerance);
    }

    [Fact]
    public void Ndcg_at_k_uses_binary_gains_and_the_ideal_of_every_relevant_row()
    {
        double l3 = 1 / Math.Log2(3), l4 = 0.5, l5 = 1 / Math.Log2(5), l6 = 1 / Math.Log2(6);
        bool[] relevant = [false, true, true];
        // DCG@3 = 1/log2(3) + 1/log2(4); 5 relevant rows, so IDCG@3 = 1 + 1/log2(3) + 1/log2(4).
        Assert.Equal((l3 + l4) / (1 + l3 + l4), RetrievalMetrics.NdcgAtK(relevant, 3, totalRelevant: 5), Tolerance);
        // k larger than the list: the ideal still has min(k, 5) = 5 items.
        Assert.Equal((l3 + l4) / (1 + l3 + l4 + l5 + l6), RetrievalMetrics.NdcgAtK(relevant, 5, totalRelevant: 5), Tolerance);
        // Only 2 relevant rows exist: the ideal is 2 items, and this list gets both at ranks 2 and 3.
        Assert.Equal((l3 + l4) / (1 + l3), RetrievalMetrics.NdcgAtK(relevant, 3, totalRelevant: 2), Tolerance);
        Assert.Equal(1.0, RetrievalMetrics.NdcgAtK([true, true, false], 3, totalRelevant: 2), Tolerance);
        Assert.Equal(0.0, RetrievalMetrics.NdcgAtK([false, false], 2, totalRelevant: 0), Tolerance);
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.NdcgAtK([true, true], 2, totalRelevant: 1));
    }

    [Fact]
    public void Reciprocal_rank_is_one_over_the_first_relevant_rank()
    {
        Assert.Equal(1.0 / 3, RetrievalMetrics.ReciprocalRank([false, false, true, true]), Tolerance);
        Assert.Equal(1.0, RetrievalMetrics.ReciprocalRank([true]), Tolerance);
        Assert.Equal(0.0, RetrievalMetrics.ReciprocalRank([false, false]), Tolerance);
        Assert.Equal(0.0, RetrievalMetrics.ReciprocalRank([]), Tolerance);
    }

    [Fact]
    public void Metrics_over_queries_are_means_and_relevance_is_label_match()
    {
        Assert.Equal((1.0 + 0.5) / 2, RetrievalMetrics.MeanRecallAtK([[1, 2], [3, 9]], [[2, 1], [3, 4]], 2), Tolerance);
        Assert.Equal(2.0, RetrievalMetrics.Mean(3, q => q + 1.0), Tolerance);
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.Mean(0, _ => 1));
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.MeanRecallAtK([[1]], [], 1));
        Assert.Equal([true, false, true], RetrievalMetrics.Relevance([4, 1, 2], [7, 3, 7, 3, 7], 7));
    }

    [Fact]
    public void Metrics_keep_the_order_they_are_given_so_ties_are_broken_by_the_ranking()
    {
        // Rows 4 and 1 tie; the ranking put the smaller id first (as the kernels do), and the
        // cut at k = 1 keeps it: the metric must not reorder.
        Assert.Equal(1.0, RetrievalMetrics.RecallAtK([1, 4], [1, 4], 1), Tolerance);
        Assert.Equal(0.0, RetrievalMetrics.RecallAtK([4, 1], [1, 4], 1), Tolerance);
        Assert.Equal(0.5, RetrievalMetrics.AveragePrecisionAtR([false, true], 2), Tolerance);
    }

    // ---- float distances ----

    [Fact]
    public void Vector_distances_match_a_double_oracle_on_every_length()
    {
        const int seed = 601;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        for (int length = 1; length <= 70; length++)
        {
            float[] a = RandomFloats(random, length), b = RandomFloats(random, length);
            double squared = 0, dot = 0, na = 0, nb = 0;
            for (int i = 0; i < length; i++)
            {
                squared += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
                dot += (double)a[i] * b[i];
                na += (double)a[i] * a[i];
                nb += (double)b[i] * b[i];
            }
            Assert.Equal(squared, VectorDistance.Distance(VectorMetric.L2, a, b), squared * 1e-12);
            Assert.Equal(-dot, VectorDistance.Distance(VectorMetric.Dot, a, b), 1e-9);
            Assert.Equal(1 - (dot / Math.Sqrt(na * nb)), VectorDistance.Distance(VectorMetric.Cosine, a, b), 1e-9);
        }
    }

    [Fact]
    public void Vector_distances_on_hand_examples_and_the_ranking_convention()
    {
        float[] a = [1, 2, 3], b = [4, 6, 3];
        Assert.Equal(25, VectorDistance.Distance(VectorMetric.L2, a, b));
        Assert.Equal(-25, VectorDistance.Distance(VectorMetric.Dot, a, b));
        Assert.Equal(1 - (25 / Math.Sqrt(14 * 61)), VectorDistance.Distance(VectorMetric.Cosine, a, b), 1e-12);
        Assert.Equal(1, VectorDistance.Distance(VectorMetric.Cosine, a, [0, 0, 0])); // no direction: as far as orthogonal
        Assert.Equal(0, VectorDistance.Distance(VectorMetric.Cosine, a, [2, 4, 6]), 1e-12);
        Assert.Throws<ArgumentException>(() => VectorDistance.Distance(VectorMetric.L2, a, [1, 2]));
    }

    // ---- the runner ----

    [Fact]
    public void Planted_clusters_give_recall_one_with_an_identity_encoder_and_enough_oversample()
    {
        const int seed = 602;
        output.WriteLine($"seed {seed}");
        Planted planted = Planted.Create(new Random(seed), clusters: 12, perCluster: 25, dimension: 64, queriesPerCluster: 3);
        var encoder = SignProjectionEncoder.Identity(64);
        var options = new EvaluationOptions { K = 10, Oversample = [1, 2, 3, 4, 10, 30], Threads = 2 };
        EncoderEvaluation result = Assert.Single(EvaluationRunner.Run(planted.Data, [new("identity", encoder)], options));
        output.WriteLine(EvaluationTable.ToText([result]));

        // Every member of a cluster has the cluster's code; other clusters are far. The Hamming top
        // 10 is therefore the cluster's 10 smallest rows (ties by id), whatever their float distance.
        double expected = RetrievalMetrics.Mean(planted.Data.Queries.Count, q =>
            RetrievalMetrics.RecallAtK(planted.ClusterRows(planted.QueryClusters[q]).Take(10).ToArray(), planted.Data.GroundTruth!.Neighbors(q), 10));
        Assert.Equal(expected, result.HammingRecall!.Value, Tolerance);
        Assert.True(expected < 0.9, $"the planted data should make Hamming-only recall imperfect ({expected})");

        Assert.Equal([1, 2, 3, 4, 10, 30], result.Rescored.Select(r => r.Oversample));
        Assert.Equal([10, 20, 30, 40, 100, 300], result.Rescored.Select(r => r.Candidates));
        double atOne = result.Rescored[0].Recall;
        Assert.Equal(result.HammingRecall!.Value, atOne, Tolerance);
        Assert.All(result.Rescored, r => Assert.True(r.Recall >= atOne, $"oversample {r.Oversample} lowered recall: {r.Recall} < {atOne}"));
        // 30 candidates hold the whole cluster of 25: exact.
        Assert.All(result.Rescored.Where(r => r.Oversample >= 3), r => Assert.Equal(1.0, r.Recall, Tolerance));

        // Labels are the clusters: the whole cluster comes first.
        LabelQuality labels = result.Labels!;
        Assert.Equal(1.0, labels.PrecisionAtK, Tolerance);
        Assert.Equal(1.0, labels.MapAtR, Tolerance);
        Assert.Equal(1.0, labels.Map!.Value, Tolerance);
        Assert.Equal(1.0, labels.NdcgAtK, Tolerance);
        Assert.Equal(1.0, labels.Mrr, Tolerance);
        Assert.Equal(12 * 25, labels.R);
        Assert.Equal((EncoderKind.Lsh, 64, 300, 36), (result.Kind, result.CodeBits, result.BaseCount, result.QueryCount));
        Assert.True(result.EncodeVectorsPerSecond > 0);
    }

    [Fact]
    public void Label_metrics_of_the_runner_equal_the_metrics_of_a_brute_force_ranking()
    {
        const int seed = 603;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        Planted planted = Planted.Create(random, clusters: 5, perCluster: 40, dimension: 24, queriesPerCluster: 4, noise: 2.5f);
        var encoder = SignProjectionEncoder.Random(24, 16, random);
        const int k = 7, r = 50;
        var options = new EvaluationOptions { K = k, MapAtR = r, Oversample = [1], Threads = 1 };
        LabelQuality full = EvaluationRunner.Run(planted.Data, [new("lsh16", encoder)], options)[0].Labels!;
        LabelQuality prefix = EvaluationRunner.Run(planted.Data, [new("lsh16", encoder)], options with { FullRankingMap = false })[0].Labels!;

        // Oracle: rank every base row by (Hamming distance of the encoder's codes, row), by brute force.
        FloatVectors baseRows = planted.Data.Base, queries = planted.Data.Queries;
        int[] baseLabels = planted.Data.BaseLabels!, queryLabels = planted.Data.QueryLabels!;
        ulong[] baseCodes = encoder.EncodeMany(baseRows.Values, baseRows.Count);
        ulong[] queryCodes = encoder.EncodeMany(queries.Values, queries.Count);
        double p = 0, mapR = 0, map = 0, ndcg = 0, mrr = 0;
        for (int q = 0; q < queries.Count; q++)
        {
            int[] ranking = Enumerable.Range(0, baseRows.Count)
                .OrderBy(row => ulong.PopCount(baseCodes[row] ^ queryCodes[q])).ThenBy(row => row).ToArray();
            bool[] relevant = ranking.Select(row => baseLabels[row] == queryLabels[q]).ToArray();
            p += relevant.Take(k).Count(x => x) / (double)k;
            mapR += ApOracle(relevant.Take(r).ToArray());
            map += ApOracle(relevant);
            double dcg = 0, ideal = 0;
            for (int i = 0; i < k; i++)
            {
                dcg += relevant[i] ? 1 / Math.Log2(i + 2) : 0;
                ideal += 1 / Math.Log2(i + 2); // every cluster has 40 >= k relevant rows
            }
            ndcg += dcg / ideal;
            int first = Array.IndexOf(relevant, true);
            mrr += first is >= 0 and < k ? 1.0 / (first + 1) : 0;
        }
        int n = queries.Count;
        Assert.Equal(p / n, full.PrecisionAtK, 1e-9);
        Assert.Equal(mapR / n, full.MapAtR, 1e-9);
        Assert.Equal(map / n, full.Map!.Value, 1e-9);
        Assert.Equal(ndcg / n, full.NdcgAtK, 1e-9);
        Assert.Equal(mrr / n, full.Mrr, 1e-9);
        Assert.Equal(full with { Map = null }, prefix);
        output.WriteLine($"P@{k} {full.PrecisionAtK:F4} mAP@{r} {full.MapAtR:F4} mAP {full.Map:F4}");
    }

    [Fact]
    public void Sift10k_exact_l2_reranking_of_every_base_row_reproduces_the_ground_truth()
    {
        const int seed = 604;
        output.WriteLine($"seed {seed}");
        var data = new EvaluationData
        {
            Base = DatasetFiles.LoadVectors(DatasetTestFiles.Shared("sift10k/base.hdbf.gz")),
            Queries = DatasetFiles.LoadVectors(DatasetTestFiles.Shared("sift10k/query.hdbf.gz")),
            GroundTruth = DatasetFiles.LoadGroundTruth(DatasetTestFiles.Shared("sift10k/query-l2-k100.gt.gz")),
        };
        var encoder = SignProjectionEncoder.Random(128, 32, new Random(seed), centre: 30f);
        int all = data.Base.Count / 10;
        var options = new EvaluationOptions { K = 10, Oversample = [1, 10, all], Threads = 2 };
        EncoderEvaluation result = EvaluationRunner.Run(data, [new("lsh32", encoder)], options)[0];
        output.WriteLine(EvaluationTable.ToText([result]));
        output.WriteLine($"encode {result.EncodeTime.TotalMilliseconds:F0} ms, rescoring {string.Join(", ", result.Rescored.Select(r => $"x{r.Oversample} {r.RescoreTime.TotalMilliseconds:F0} ms"))}");
        Assert.Equal(data.Base.Count, result.Rescored[^1].Candidates);
        Assert.Equal(1.0, result.Rescored[^1].Recall, Tolerance);
        Assert.True(result.Rescored[1].Recall >= result.Rescored[0].Recall);
        Assert.Null(result.Labels);
    }

    [Fact]
    public void The_runner_refuses_data_that_do_not_fit_together()
    {
        const int seed = 605;
        output.WriteLine($"seed {seed}");
        Planted planted = Planted.Create(new Random(seed), clusters: 2, perCluster: 5, dimension: 8, queriesPerCluster: 1);
        NamedEncoder[] encoders = [new("id", SignProjectionEncoder.Identity(8))];
        EvaluationData data = planted.Data;

        var wrongDimension = Assert.Throws<ArgumentException>(() => EvaluationRunner.Run(data, [new("x", SignProjectionEncoder.Identity(16))]));
        Assert.Contains("dimension 16", wrongDimension.Message, StringComparison.Ordinal);

        var outside = new GroundTruth([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 10);
        var badTruth = Assert.Throws<ArgumentException>(() => EvaluationRunner.Run(new EvaluationData { Base = data.Base, Queries = data.Queries, GroundTruth = outside }, encoders));
        Assert.Contains("query 0, neighbour 9: row 10 is outside the 10 base rows", badTruth.Message, StringComparison.Ordinal);

        var shortTruth = Assert.Throws<ArgumentException>(() => EvaluationRunner.Run(data, encoders, new EvaluationOptions { K = 11 }));
        Assert.Contains("recall@11 needs 11", shortTruth.Message, StringComparison.Ordinal);

        var labels = Assert.Throws<ArgumentException>(() => EvaluationRunner.Run(
            new EvaluationData { Base = data.Base, Queries = data.Queries, BaseLabels = [1, 2], QueryLabels = data.QueryLabels }, encoders));
        Assert.Contains("2 base labels for 10 base rows", labels.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => EvaluationRunner.Run(data, encoders, new EvaluationOptions { Oversample = [0] }));
        Assert.Throws<ArgumentException>(() => EvaluationRunner.Run(data, encoders, new EvaluationOptions { Oversample = [] }));
        Assert.Throws<OperationCanceledException>(() => EvaluationRunner.Run(data, encoders, cancellationToken: new CancellationToken(canceled: true)));
    }

    [Fact]
    public void Without_ground_truth_or_labels_only_the_times_are_reported_and_the_table_drops_those_columns()
    {
        const int seed = 606;
        output.WriteLine($"seed {seed}");
        Planted planted = Planted.Create(new Random(seed), clusters: 3, perCluster: 10, dimension: 16, queriesPerCluster: 2);
        var bare = new EvaluationData { Base = planted.Data.Base, Queries = planted.Data.Queries };
        EncoderEvaluation result = EvaluationRunner.Run(bare, [new("a|b", SignProjectionEncoder.Identity(16))])[0];
        Assert.Null(result.HammingRecall);
        Assert.Empty(result.Rescored);
        Assert.Null(result.Labels);

        string text = EvaluationTable.ToText([result]);
        output.WriteLine(text);
        Assert.DoesNotContain("recall", text, StringComparison.Ordinal);
        Assert.DoesNotContain("P@", text, StringComparison.Ordinal);
        Assert.Contains("encode vec/s", text, StringComparison.Ordinal);
        Assert.Contains("a|b", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_tables_hold_a_row_per_encoder_and_a_column_per_measure()
    {
        const int seed = 607;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        Planted planted = Planted.Create(random, clusters: 4, perCluster: 20, dimension: 32, queriesPerCluster: 2);
        NamedEncoder[] encoders = [new("identity", SignProjectionEncoder.Identity(32)), new("lsh|16", SignProjectionEncoder.Random(32, 16, random))];
        IReadOnlyList<EncoderEvaluation> results = EvaluationRunner.Run(planted.Data, encoders, new EvaluationOptions { K = 5, MapAtR = 40, Oversample = [1, 4] });

        string markdown = EvaluationTable.ToMarkdown(results);
        output.WriteLine(markdown);
        string[] lines = markdown.TrimEnd('\n').Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Equal(
            "| encoder | kind | bits | recall@5 | rescored x1 | rescored x4 | P@5 | mAP@40 | mAP | NDCG@5 | MRR@5 | encode vec/s | search ms |",
            lines[0]);
        Assert.Equal("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", lines[1]);
        Assert.StartsWith("| identity | Lsh | 32 | ", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("| lsh\\|16 | Lsh | 16 | ", lines[3], StringComparison.Ordinal);
        Assert.Equal(13, lines[3].Split(" | ").Length);

        string text = EvaluationTable.ToText(results);
        output.WriteLine(text);
        string[] textLines = text.TrimEnd('\n').Split('\n');
        Assert.Equal(4, textLines.Length);
        Assert.All(textLines, line => Assert.Equal(textLines[0].Length, line.Length));
    }

    // ---- helpers ----

    private static double ApOracle(bool[] relevant)
    {
        double sum = 0;
        int hits = 0;
        for (int i = 0; i < relevant.Length; i++)
        {
            if (relevant[i])
            {
                hits++;
                sum += hits / (double)(i + 1);
            }
        }
        return hits == 0 ? 0 : sum / hits;
    }

    private static float[] RandomFloats(Random random, int length) =>
        Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 20 - 10)).ToArray();

    /// <summary>
    /// Clusters around random centres whose every coordinate is ±3, members at Gaussian noise
    /// around them (far below 3 by default, so every member has its centre's signs); queries are
    /// further draws from the clusters. Labels are clusters; ground truth is brute-force L2 in
    /// float64, ties by the smaller row.
    /// </summary>
    private sealed class Planted
    {
        private Planted(EvaluationData data, int[] queryClusters, int[] baseClusters)
        {
            Data = data;
            QueryClusters = queryClusters;
            BaseClusters = baseClusters;
        }

        public EvaluationData Data { get; }

        public int[] QueryClusters { get; }

        public int[] BaseClusters { get; }

        public IEnumerable<int> ClusterRows(int cluster) => Enumerable.Range(0, BaseClusters.Length).Where(row => BaseClusters[row] == cluster);

        public static Planted Create(Random random, int clusters, int perCluster, int dimension, int queriesPerCluster, float noise = 0.3f)
        {
            float[][] centres = Enumerable.Range(0, clusters)
                .Select(_ => Enumerable.Range(0, dimension).Select(_ => random.Next(2) == 0 ? -3f : 3f).ToArray()).ToArray();
            // Rows interleave clusters, so a cluster's smallest rows are not simply the first rows.
            int baseCount = clusters * perCluster;
            int[] baseClusters = Enumerable.Range(0, baseCount).Select(row => row % clusters).ToArray();
            int[] queryClusters = Enumerable.Range(0, clusters * queriesPerCluster).Select(q => q % clusters).ToArray();
            float[] Draw(int[] of) => of.SelectMany(c => centres[c].Select(x => x + (float)(Gaussian(random) * noise))).ToArray();
            var baseRows = new FloatVectors(Draw(baseClusters), dimension);
            var queries = new FloatVectors(Draw(queryClusters), dimension);
            int k = Math.Min(baseCount, 10);
            var ids = new int[queries.Count * k];
            for (int q = 0; q < queries.Count; q++)
            {
                int[] nearest = Enumerable.Range(0, baseCount)
                    .OrderBy(row => SquaredL2Double(queries.Row(q), baseRows.Row(row))).ThenBy(row => row).Take(k).ToArray();
                nearest.CopyTo(ids, q * k);
            }
            var data = new EvaluationData
            {
                Base = baseRows,
                Queries = queries,
                BaseLabels = baseClusters,
                QueryLabels = queryClusters,
                GroundTruth = new GroundTruth(ids, k),
            };
            return new Planted(data, queryClusters, baseClusters);
        }

        private static double SquaredL2Double(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        {
            double sum = 0;
            for (int i = 0; i < a.Length; i++)
            {
                double d = (double)a[i] - b[i];
                sum += d * d;
            }
            return sum;
        }

        private static double Gaussian(Random random) =>
            Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
    }

    /// <summary>
    /// A test encoder: bit j is set when the j-th projection of (vector - centre) is positive. The
    /// identity encoder projects on the axes (bit j = sign of coordinate j).
    /// </summary>
    private sealed class SignProjectionEncoder : VectorEncoder
    {
        private readonly float[] _projections;
        private readonly float _centre;

        private SignProjectionEncoder(int dimension, int codeBits, float[] projections, float centre)
        {
            Dimension = dimension;
            CodeBits = codeBits;
            _projections = projections;
            _centre = centre;
        }

        public override int Dimension { get; }

        public override int CodeBits { get; }

        public override EncoderKind Kind => EncoderKind.Lsh;

        public static SignProjectionEncoder Identity(int dimension)
        {
            var projections = new float[dimension * dimension];
            for (int j = 0; j < dimension; j++)
            {
                projections[j * dimension + j] = 1;
            }
            return new SignProjectionEncoder(dimension, dimension, projections, 0);
        }

        public static SignProjectionEncoder Random(int dimension, int codeBits, Random random, float centre = 0) =>
            new(dimension, codeBits, Enumerable.Range(0, codeBits * dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), centre);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        protected override void EncodeCore(ReadOnlySpan<float> vector, Span<ulong> code)
        {
            code.Clear();
            for (int bit = 0; bit < CodeBits; bit++)
            {
                ReadOnlySpan<float> projection = _projections.AsSpan(bit * Dimension, Dimension);
                float dot = 0;
                for (int i = 0; i < Dimension; i++)
                {
                    dot += projection[i] * (vector[i] - _centre);
                }
                if (dot > 0)
                {
                    code[bit / 64] |= 1UL << (bit % 64);
                }
            }
        }
    }
}
