using System.Globalization;
using System.Text.Json;
using HammingDB.Cli;
using HammingDB.Encoders.Data;
using HammingDB.Tests.Encoders;
using Xunit.Abstractions;

namespace HammingDB.Tests.Cli;

/// <summary>
/// hdb eval on a small synthetic dataset (planted clusters, exact L2 ground truth computed here):
/// the table's rows and columns, sane numbers (rescoring every row finds the exact neighbours), ndjson
/// that parses, and every bad input refused with exit 2, a message naming it and nothing on stdout.
/// </summary>
public sealed class EvalCliTests : CliHarness
{
    private const int BaseRows = 400;
    private const int QueryRows = 20;
    private const int Dimension = 24; // binary quantization: 24-bit codes
    private const int Classes = 4;
    private const int TruthK = 20;
    private const int K = 5;

    private readonly string _base, _queries, _baseLabels, _queryLabels, _truth;

    public EvalCliTests(ITestOutputHelper output) : base(output)
    {
        const int seed = 505;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        // Cluster centers differ in every coordinate and lie off the origin: LSH without centering is poorer but not useless.
        (float[] vectors, int[] labels) = EncoderTestData.PlantedClusters(random, BaseRows + QueryRows, Dimension, Classes,
            signalDimensions: Dimension, spread: 2, noise: 1);
        for (int i = 0; i < vectors.Length; i++)
        {
            vectors[i] += 3;
        }
        var baseVectors = new FloatVectors(vectors[..(BaseRows * Dimension)], Dimension);
        var queryVectors = new FloatVectors(vectors[(BaseRows * Dimension)..], Dimension);
        _base = PathOf("base.hdbf");
        _queries = PathOf("query.hdbf.gz");
        _baseLabels = PathOf("base.labels");
        _queryLabels = PathOf("query.labels");
        _truth = PathOf("query.gt");
        DatasetFiles.WriteVectors(_base, baseVectors);
        DatasetFiles.WriteVectors(_queries, queryVectors, compress: true);
        DatasetFiles.WriteLabels(_baseLabels, labels.AsSpan(0, BaseRows));
        DatasetFiles.WriteLabels(_queryLabels, labels.AsSpan(BaseRows));
        DatasetFiles.WriteGroundTruth(_truth, ExactTruth(baseVectors, queryVectors, TruthK));
    }

    /// <summary>The exact L2 neighbours by brute force in double, ties by the smaller row.</summary>
    private static GroundTruth ExactTruth(FloatVectors rows, FloatVectors queries, int k)
    {
        var ids = new int[queries.Count * k];
        for (int q = 0; q < queries.Count; q++)
        {
            ReadOnlySpan<float> query = queries.Row(q);
            var distances = new (double Distance, int Row)[rows.Count];
            for (int r = 0; r < rows.Count; r++)
            {
                ReadOnlySpan<float> row = rows.Row(r);
                double sum = 0;
                for (int j = 0; j < row.Length; j++)
                {
                    double d = (double)query[j] - row[j];
                    sum += d * d;
                }
                distances[r] = (sum, r);
            }
            Array.Sort(distances);
            for (int i = 0; i < k; i++)
            {
                ids[q * k + i] = distances[i].Row;
            }
        }
        return new GroundTruth(ids, k);
    }

    private string[] Args(params string[] extra) =>
    [
        "eval", "--base", _base, "--queries", _queries, "--base-labels", _baseLabels, "--query-labels", _queryLabels,
        "--ground-truth", _truth, "--k", Str(K), "--encode-seconds", "0", "--threads", "2", .. extra,
    ];

    private static double Number(string cell) => double.Parse(cell, CultureInfo.InvariantCulture);

    [Fact]
    public void Markdown_table_has_a_row_per_encoder_and_width_and_sane_numbers()
    {
        // Oversample 80 = N / k: rescoring re-ranks every base row, so it finds the exact neighbours.
        HdbResult result = Ok(Args("--bits", "32,16", "--oversample", "1,4,80", "--output", "markdown"));

        string[] lines = result.Stdout.Split('\n');
        string[] header = Cells(lines[0]);
        Assert.Equal(
            ["encoder", "kind", "bits", "train s", "encode vec/s", "recall@5", "rescored x1", "rescored x4", "rescored x80",
             "P@5", "mAP@400", "mAP", "NDCG@5", "MRR@5", "search ms"],
            header);
        Assert.Equal("|" + string.Concat(header.Select((_, c) => c < 2 ? " --- |" : " ---: |")), lines[1]);
        List<string[]> rows = [.. lines.Skip(2).TakeWhile(line => line.StartsWith('|')).Select(Cells)];
        // By width, then in the order --encoders names them; binary quantization once, at 24 bits (one per dimension).
        Assert.Equal(
            ["lsh 16", "lsh-centered 16", "itq 16", "grh 16", "bq-sign 24", "bq-median 24", "lsh 32", "lsh-centered 32", "itq 32", "grh 32"],
            rows.Select(row => row[0] + " " + row[2]));
        int Column(string name) => Array.IndexOf(header, name);
        foreach (string[] row in rows)
        {
            string what = row[0] + " " + row[2];
            Assert.True(Number(row[Column("train s")]) >= 0, what);
            Assert.True(Number(row[Column("encode vec/s")]) > 0, what);
            foreach (string metric in new[] { "recall@5", "rescored x1", "rescored x4", "P@5", "mAP@400", "mAP", "NDCG@5", "MRR@5" })
            {
                double value = Number(row[Column(metric)]);
                Assert.True(value is >= 0 and <= 1, $"{what} {metric} = {value}");
            }
            // Re-ranking the Hamming top k keeps the same k rows; more candidates never lose a true neighbour here.
            Assert.Equal(row[Column("recall@5")], row[Column("rescored x1")]);
            Assert.True(Number(row[Column("rescored x4")]) >= Number(row[Column("rescored x1")]), what);
            Assert.Equal("1.0000", row[Column("rescored x80")]);
            // Four well-separated clusters: every encoder retrieves its query's cluster far above chance (0.25).
            Assert.True(Number(row[Column("P@5")]) > 0.5, $"{what} P@5 = {row[Column("P@5")]}");
        }
        Assert.True(Number(rows.Single(r => r[0] == "grh" && r[2] == "32")[Column("P@5")]) > 0.9);
        Assert.Contains("- bq-sign, bq-median: binary quantization makes one bit per dimension; measured once, at 24 bits", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("hdb eval: [10/10] grh 32 bits: trained on 400 rows", result.Stderr, StringComparison.Ordinal);
    }

    private static string[] Cells(string line) => [.. line.Trim('|').Split('|').Select(cell => cell.Trim())];

    [Fact]
    public void Ndjson_lines_parse_and_carry_every_measurement()
    {
        HdbResult result = Ok(Args("--encoders", "lsh-centered,itq,bq-mean", "--bits", "8", "--oversample", "2,80", "--output", "ndjson", "--train-rows", "100", "--seed", "9"));

        List<JsonElement> lines = JsonLines(result.Stdout);
        Assert.Equal(["lsh-centered 8", "itq 8", "bq-mean 24"], lines.Select(line => $"{line.GetProperty("encoder").GetString()} {line.GetProperty("bits").GetInt32()}"));
        foreach (JsonElement line in lines)
        {
            Assert.Equal(K, line.GetProperty("k").GetInt32());
            Assert.Equal(BaseRows, line.GetProperty("base").GetInt32());
            Assert.Equal(QueryRows, line.GetProperty("queries").GetInt32());
            Assert.Equal(100, line.GetProperty("train_rows").GetInt32());
            Assert.True(line.GetProperty("train_s").GetDouble() >= 0);
            Assert.True(line.GetProperty("encode_vectors_per_s").GetDouble() > 0);
            Assert.InRange(line.GetProperty("recall").GetDouble(), 0, 1);
            JsonElement[] rescored = [.. line.GetProperty("rescored").EnumerateArray()];
            Assert.Equal([2, 80], rescored.Select(r => r.GetProperty("oversample").GetInt32()));
            Assert.Equal([10, BaseRows], rescored.Select(r => r.GetProperty("candidates").GetInt32()));
            Assert.Equal(1.0, rescored[1].GetProperty("recall").GetDouble());
            foreach (string metric in new[] { "precision", "map_at_r", "map", "ndcg", "mrr" })
            {
                Assert.InRange(line.GetProperty(metric).GetDouble(), 0, 1);
            }
            Assert.Equal(BaseRows, line.GetProperty("r").GetInt32());
        }
        Assert.Equal("Itq", lines[1].GetProperty("kind").GetString());
    }

    [Fact]
    public void Without_labels_grh_is_skipped_with_a_note_and_the_label_columns_are_absent()
    {
        HdbResult result = Ok("eval", "--base", _base, "--queries", _queries, "--ground-truth", _truth, "--k", "3",
            "--encoders", "lsh,grh", "--bits", "64", "--oversample", "1", "--encode-seconds", "0");

        string[] lines = result.Stdout.Split('\n');
        Assert.Equal(["encoder", "kind", "bits", "train s", "encode vec/s", "recall@3", "rescored x1", "search ms"],
            lines[0].Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("-------", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("lsh ", lines[2], StringComparison.Ordinal);
        Assert.Equal("", lines[3]);
        Assert.Contains("note: grh skipped: it is supervised and needs --base-labels.", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("hdb eval: note: grh skipped", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("P@", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Base_labels_alone_train_grh_and_the_label_columns_stay_absent()
    {
        HdbResult result = Ok(Edit(["--query-labels"], "--encoders", "grh", "--bits", "16", "--output", "ndjson", "--oversample", "80"));

        JsonElement line = Assert.Single(JsonLines(result.Stdout));
        Assert.Equal("grh", line.GetProperty("encoder").GetString());
        Assert.Equal(1.0, line.GetProperty("rescored")[0].GetProperty("recall").GetDouble());
        Assert.False(line.TryGetProperty("precision", out _));
        Assert.Contains("no --query-labels", result.Stderr, StringComparison.Ordinal);
    }

    // name -> (arguments replaced or added, what the message must say)
    private static readonly Dictionary<string, (Func<EvalCliTests, string[]> Args, string[] Says)> BadCases = new()
    {
        ["missing base"] = (t => t.With("--base", t.PathOf("nope.hdbf")), ["--base", "nope.hdbf", "no such file"]),
        ["missing queries"] = (t => t.With("--queries", t.PathOf("nope.hdbf")), ["--queries", "nope.hdbf", "no such file"]),
        ["missing ground truth"] = (t => t.With("--ground-truth", t.PathOf("nope.gt")), ["--ground-truth", "nope.gt", "no such file"]),
        ["dimensions differ"] = (t => t.With("--queries", t.Vectors("q8.hdbf", rows: QueryRows, dimension: 8)), ["--queries", "q8.hdbf", "dimension 8", "has 24"]),
        ["truncated base"] = (t => t.With("--base", t.Truncated(t._base, "cut.hdbf")), ["--base", "cut.hdbf", "the header's count disagrees with the file length"]),
        ["base not vectors"] = (t => t.With("--base", t._baseLabels), ["--base", "base.labels", "magic"]),
        ["NaN in the base"] = (t => t.With("--base", t.WithNaN("nan.hdbf")), ["--base", "nan.hdbf", "row 7, column 3", "NaN"]),
        ["malformed labels"] = (t => t.With("--base-labels", t.Truncated(t._baseLabels, "cut.labels")), ["--base-labels", "cut.labels", "the header's count disagrees with the file length"]),
        ["malformed ground truth"] = (t => t.With("--ground-truth", t.Truncated(t._truth, "cut.gt")), ["--ground-truth", "cut.gt", "the header's count disagrees with the file length"]),
        ["unknown encoder"] = (t => t.With("--encoders", "lsh,pq"), ["--encoders", "unknown encoder 'pq'", "known: lsh, lsh-centered"]),
        ["empty encoder"] = (t => t.With("--encoders", "lsh,,itq"), ["--encoders", "an item is empty"]),
        ["width not a multiple of 8"] = (t => t.With("--bits", "32,12"), ["--bits", "12 is not a code width", "multiple of 8"]),
        ["width too wide"] = (t => t.With("--bits", "8200"), ["--bits", "8200 is not a code width"]),
        ["width not a number"] = (t => t.With("--bits", "32,x"), ["--bits", "'x' is not an integer"]),
        ["k zero"] = (t => t.With("--k", "0"), ["--k must be at least 1; got 0"]),
        ["k negative"] = (t => t.With("--k", "-3"), ["--k must be at least 1; got -3"]),
        ["k beyond the ground truth"] = (t => t.With("--k", "21"), ["--ground-truth", "lists 20 neighbours per query", "recall@21"]),
        ["oversample zero"] = (t => t.With("--oversample", "1,0"), ["--oversample", "0 is not a factor"]),
        ["base labels count"] = (t => t.With("--base-labels", t.Labels("short.labels", BaseRows - 1)), ["--base-labels", "short.labels", "holds 399 labels", "400 rows"]),
        ["query labels count"] = (t => t.With("--query-labels", t.Labels("long.labels", QueryRows + 1)), ["--query-labels", "long.labels", "holds 21 labels", "20 rows"]),
        ["query labels alone"] = (t => t.Edit(["--base-labels"]), ["--query-labels needs --base-labels"]),
        ["ground truth of other queries"] = (t => t.With("--ground-truth", t.Truth("few.gt", QueryRows - 1, TruthK, 0)), ["--ground-truth", "few.gt", "covers 19 queries", "holds 20"]),
        ["ground truth outside the base"] = (t => t.With("--ground-truth", t.Truth("far.gt", QueryRows, TruthK, BaseRows)), ["--ground-truth", "far.gt", "row 400", "outside the 400 base rows"]),
        ["train rows zero"] = (t => t.With("--train-rows", "0"), ["--train-rows must be at least 1"]),
        ["train rows beyond the base"] = (t => t.With("--train-rows", "401"), ["--train-rows 401 exceeds the 400 base rows"]),
        ["too few rows for itq"] = (t => t.With("--train-rows", "20", "--encoders", "itq", "--bits", "32"), ["itq at 32 bits needs at least 32 training rows", "there are 20"]),
        ["grh with one class"] = (t => t.With("--base-labels", t.Labels("one.labels", BaseRows, constant: true), "--encoders", "grh"), ["grh needs at least two classes", "every label is 0"]),
        ["nothing to evaluate"] = (t => t.Edit(["--base-labels", "--query-labels"], "--encoders", "grh"), ["nothing to evaluate", "grh skipped"]),
        ["unknown metric"] = (t => t.With("--metric", "hamming"), ["--metric must be one of l2, cosine, dot; got 'hamming'"]),
        ["unknown output"] = (t => t.With("--output", "csv"), ["--output must be one of table, markdown, ndjson; got 'csv'"]),
        ["threads zero"] = (t => t.With("--threads", "0"), ["--threads must be at least 1"]),
    };

    public static TheoryData<string> BadCaseNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in BadCases.Keys)
        {
            data.Add(name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BadCaseNames))]
    public void Bad_input_exits_2_names_the_problem_and_writes_nothing(string name)
    {
        var (args, says) = BadCases[name];
        HdbResult result = Hdb(args(this));
        Assert.Equal(ExitCodes.BadInput, result.Exit);
        Assert.Equal("", result.Stdout);
        Assert.DoesNotContain("hdb eval: [", result.Stderr, StringComparison.Ordinal); // no training began
        foreach (string fragment in says)
        {
            Assert.Contains(fragment, result.Stderr, StringComparison.Ordinal);
        }
    }

    /// <summary>The good arguments (one width, one encoder per kind) with <paramref name="pairs"/> replacing or adding options.</summary>
    private string[] With(params string[] pairs) => Edit([], pairs);

    /// <summary>The good arguments without the options <paramref name="remove"/>, with <paramref name="pairs"/> replacing or adding options.</summary>
    private string[] Edit(string[] remove, params string[] pairs)
    {
        List<string> args = [.. Args("--bits", "32", "--encoders", "lsh,itq,grh")];
        foreach (string option in remove)
        {
            args.RemoveRange(args.IndexOf(option), 2);
        }
        for (int i = 0; i < pairs.Length; i += 2)
        {
            int at = args.LastIndexOf(pairs[i]);
            if (at >= 0)
            {
                args[at + 1] = pairs[i + 1];
            }
            else
            {
                args.AddRange([pairs[i], pairs[i + 1]]);
            }
        }
        return [.. args];
    }

    private string Vectors(string name, int rows, int dimension)
    {
        string path = PathOf(name);
        DatasetFiles.WriteVectors(path, new FloatVectors(new float[rows * dimension], dimension));
        return path;
    }

    private string Truncated(string source, string name)
    {
        string path = PathOf(name);
        byte[] bytes = File.ReadAllBytes(source);
        File.WriteAllBytes(path, bytes[..^6]);
        return path;
    }

    private string WithNaN(string name)
    {
        string path = PathOf(name);
        byte[] bytes = File.ReadAllBytes(_base);
        BitConverter.TryWriteBytes(bytes.AsSpan(32 + 4 * (Dimension * 7 + 3)), float.NaN);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Labels(string name, int count, bool constant = false)
    {
        string path = PathOf(name);
        DatasetFiles.WriteLabels(path, Enumerable.Range(0, count).Select(i => constant ? 0 : i % Classes).ToArray());
        return path;
    }

    private string Truth(string name, int queries, int k, int firstId)
    {
        string path = PathOf(name);
        DatasetFiles.WriteGroundTruth(path, new GroundTruth(Enumerable.Range(0, queries * k).Select(i => firstId + i % k).ToArray(), k));
        return path;
    }

    [Fact]
    public void Help_lists_every_option()
    {
        HdbResult result = Ok("eval", "--help");
        foreach (string option in new[] { "--base", "--queries", "--base-labels", "--query-labels", "--ground-truth", "--encoders", "--bits", "--k",
                     "--oversample", "--metric", "--train-rows", "--seed", "--output", "--threads", "--encode-seconds" })
        {
            Assert.Contains(option, result.Stdout, StringComparison.Ordinal);
        }
        Assert.Contains("lsh-centered", result.Stdout, StringComparison.Ordinal);
    }
}
