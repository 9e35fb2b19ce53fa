using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using HammingDB.Encoders;
using HammingDB.Encoders.Data;
using HammingDB.Encoders.Evaluation;
using HammingDB.Kernels;

namespace HammingDB.Cli.Commands;

/// <summary>
/// <c>hdb eval</c>: trains each requested encoder at each requested width on base vectors, and
/// measures it with <see cref="EvaluationRunner"/>: recall@k against exact ground truth (Hamming
/// alone and rescored), the label metrics, training time and encode throughput; one row per
/// encoder and width. Every input is read and checked before any training starts: bad input ends
/// with exit code 2 and nothing on standard output.
/// </summary>
internal static class EvalCommand
{
    /// <summary>The encoder names --encoders accepts, in their default order.</summary>
    internal static readonly string[] EncoderNames = ["lsh", "lsh-centered", "bq-sign", "bq-mean", "bq-median", "itq", "grh"];

    private const string DefaultEncoders = "lsh,lsh-centered,bq-sign,bq-median,itq,grh";

    public static Command Build(CliContext context)
    {
        var baseFile = new Option<string>("--base") { HelpName = "FILE", Description = "The base vectors (.hdbf or .fvecs, gzip or not): trained on and searched.", Required = true };
        var queries = new Option<string>("--queries") { HelpName = "FILE", Description = "The query vectors (the base's dimension).", Required = true };
        var baseLabels = new Option<string?>("--base-labels") { HelpName = "FILE", Description = "One label per base row (.labels): trains GRH; with --query-labels, the label metrics." };
        var queryLabels = new Option<string?>("--query-labels") { HelpName = "FILE", Description = "One label per query (.labels); needs --base-labels." };
        var groundTruth = new Option<string?>("--ground-truth") { HelpName = "FILE", Description = "The exact nearest base rows of each query (.gt or .ivecs), at least k per query: recall@k." };
        var encoders = new Option<string>("--encoders")
        {
            Description = $"Comma-separated encoders: {string.Join(", ", EncoderNames)}. bq-* make one bit per dimension and run once at that width.",
            DefaultValueFactory = _ => DefaultEncoders,
        };
        var bits = new Option<string>("--bits") { Description = "Comma-separated code widths, multiples of 8 from 8 to 8192.", DefaultValueFactory = _ => "32,64,128,256" };
        var k = new Option<int>("--k") { Description = "Neighbours per query.", DefaultValueFactory = _ => 10 };
        var oversample = new Option<string>("--oversample")
        {
            Description = "Comma-separated rescoring factors: k * factor Hamming candidates re-ranked by --metric (needs --ground-truth).",
            DefaultValueFactory = _ => "1,4,10",
        };
        var metric = new Option<string>("--metric") { Description = "The float metric of rescoring: l2 (squared Euclidean), cosine or dot.", DefaultValueFactory = _ => "l2" };
        OneOf(metric, "l2", "cosine", "dot");
        var trainRows = new Option<int?>("--train-rows") { Description = "Train on the first N base rows (default: all)." };
        var seed = new Option<ulong>("--seed") { Description = "The seed of every encoder's random draws.", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--output") { Description = "table (aligned text), markdown, or ndjson (one JSON object per row, written as each is measured).", DefaultValueFactory = _ => "table" };
        OneOf(output, "table", "markdown", "ndjson");
        var threads = new Option<int>("--threads") { Description = "Threads of the Hamming searches.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var encodeSeconds = new Option<double>("--encode-seconds")
        {
            Description = "Seconds spent timing the encoding of the base per encoder: half warm-up, half timed passes (at least 3), the fastest reported. 0: one pass, no warm-up.",
            DefaultValueFactory = _ => 1.0,
        };

        var command = new Command("eval",
            "Trains encoders on float vectors and measures them: recall@k against exact ground truth, Hamming alone and rescored per " +
            "oversample factor; precision@k, mAP, NDCG@k and MRR by label; training time and encode throughput. Progress goes to stderr.")
        {
            baseFile, queries, baseLabels, queryLabels, groundTruth, encoders, bits, k, oversample, metric, trainRows, seed, output, threads, encodeSeconds,
        };
        command.SetAction((parse, cancellation) =>
        {
            var options = new EvalOptions(
                parse.GetRequiredValue(baseFile),
                parse.GetRequiredValue(queries),
                parse.GetValue(baseLabels),
                parse.GetValue(queryLabels),
                parse.GetValue(groundTruth),
                parse.GetRequiredValue(encoders),
                parse.GetRequiredValue(bits),
                parse.GetValue(k),
                parse.GetRequiredValue(oversample),
                parse.GetRequiredValue(metric),
                parse.GetValue(trainRows),
                parse.GetValue(seed),
                parse.GetRequiredValue(output),
                parse.GetValue(threads),
                EncodeTiming(parse.GetValue(encodeSeconds)));
            return Task.Run(() => Run(options, context, cancellation), cancellation);
        });
        return command;
    }

    /// <summary>Accepts only <paramref name="values"/>; the message names the option (AcceptOnlyFromAmong's does not).</summary>
    private static void OneOf(Option<string> option, params string[] values)
    {
        option.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string>();
            if (value is null || !values.Contains(value))
            {
                result.AddError($"{option.Name} must be one of {string.Join(", ", values)}; got '{value}'.");
            }
        });
    }

    private static TimeSpan EncodeTiming(double seconds)
    {
        CommonOptions.Require(seconds is >= 0 and <= 3600, $"--encode-seconds must be from 0 to 3600; got {seconds.ToString(CultureInfo.InvariantCulture)}.");
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>Checks everything, trains and measures each encoder and width, and writes the report.</summary>
    internal static int Run(EvalOptions options, CliContext context, CancellationToken cancellation)
    {
        EvalPlan plan = EvalPlan.Prepare(options);
        TextWriter stderr = context.Stderr;
        foreach (string note in plan.Notes)
        {
            stderr.WriteLine($"hdb eval: note: {note}");
        }
        stderr.Flush();

        var report = new EvalReport(options.Output, context.Stdout);
        var evaluation = new EvaluationOptions
        {
            K = options.K,
            Oversample = plan.Oversample,
            Metric = plan.Metric,
            Threads = options.Threads,
        };
        var trainingSet = new TrainingSet(
            new ReadOnlyMemory<float>(plan.Data.Base.Values, 0, plan.TrainRows * plan.Data.Base.Dimension),
            plan.Data.Base.Dimension,
            plan.BaseLabels?[..plan.TrainRows]);
        for (int i = 0; i < plan.Runs.Count; i++)
        {
            EvalRun run = plan.Runs[i];
            string title = $"[{i + 1}/{plan.Runs.Count}] {run.Name} {run.Spec.CodeBits} bits";
            var progress = new TrainingReporter(stderr, title);
            var clock = Stopwatch.StartNew();
            VectorEncoder encoder = EncoderTraining.Train(run.Spec, trainingSet, progress, cancellation);
            TimeSpan trainTime = clock.Elapsed;
            stderr.WriteLine(FormattableString.Invariant($"hdb eval: {title}: trained on {plan.TrainRows} rows in {trainTime.TotalSeconds:F2} s; measuring"));
            stderr.Flush();
            clock.Restart();
            EncoderEvaluation result = EvaluationRunner.Run(plan.Data, [new NamedEncoder(run.Name, encoder)], evaluation, cancellation)[0];
            double? encodeRate = MeasureEncoding(encoder, plan.Data.Base, options.EncodeTiming);
            stderr.WriteLine(FormattableString.Invariant($"hdb eval: {title}: measured in {clock.Elapsed.TotalSeconds:F2} s"));
            stderr.Flush();
            report.Add(new EvalRow(run.Name, plan.TrainRows, trainTime, encodeRate ?? result.EncodeVectorsPerSecond, result));
        }
        report.Finish(plan.Notes);
        context.Stdout.Flush();
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The encode throughput of <paramref name="encoder"/> over every base row: after untimed passes
    /// for half of <paramref name="budget"/> (so that the clock measures optimized code: the runner's
    /// own warm-up of 16 rows leaves the encoding loops in tier-0 code, measured here up to 10x slower),
    /// timed passes for the other half, at least three; the fastest pass counts (the machine may be
    /// shared). Null when the budget is zero: the runner's single pass is reported instead.
    /// </summary>
    internal static double? MeasureEncoding(VectorEncoder encoder, FloatVectors rows, TimeSpan budget)
    {
        if (budget <= TimeSpan.Zero)
        {
            return null;
        }
        var clock = Stopwatch.StartNew();
        for (int pass = 0; pass < 1 || clock.Elapsed < budget / 2; pass++)
        {
            encoder.EncodeMany(rows.Values, rows.Count);
        }
        TimeSpan best = TimeSpan.MaxValue;
        clock.Restart();
        for (int pass = 0; pass < 3 || clock.Elapsed < budget / 2; pass++)
        {
            long start = Stopwatch.GetTimestamp();
            encoder.EncodeMany(rows.Values, rows.Count);
            TimeSpan time = Stopwatch.GetElapsedTime(start);
            best = time < best ? time : best;
        }
        return rows.Count / Math.Max(best.TotalSeconds, 1e-9);
    }

    /// <summary>Writes training progress to stderr: a line per stage, and at most one a second within a stage.</summary>
    private sealed class TrainingReporter(TextWriter stderr, string title) : IProgress<TrainingProgress>
    {
        private string? _stage;
        private long _last = Stopwatch.GetTimestamp();

        public void Report(TrainingProgress value)
        {
            if (value.Stage == "done" || (value.Stage == _stage && Stopwatch.GetElapsedTime(_last).TotalSeconds < 1))
            {
                return;
            }
            _stage = value.Stage;
            _last = Stopwatch.GetTimestamp();
            string loss = value.Loss is double l ? FormattableString.Invariant($", loss {l:G5}") : "";
            stderr.WriteLine(FormattableString.Invariant($"hdb eval: {title}: training: {value.Stage} {value.Fraction * 100:F0}%{loss}"));
            stderr.Flush();
        }
    }
}

/// <summary>The options of <c>hdb eval</c> as given (lists still comma-separated text).</summary>
internal sealed record EvalOptions(
    string Base,
    string Queries,
    string? BaseLabels,
    string? QueryLabels,
    string? GroundTruth,
    string Encoders,
    string Bits,
    int K,
    string Oversample,
    string Metric,
    int? TrainRows,
    ulong Seed,
    string Output,
    int Threads,
    TimeSpan EncodeTiming);

/// <summary>One encoder at one width to train and measure.</summary>
internal sealed record EvalRun(string Name, EncoderSpec Spec);

/// <summary>The measurements of one run, with its training.</summary>
/// <param name="Name">The encoder's name in --encoders.</param>
/// <param name="TrainRows">Rows trained on.</param>
/// <param name="TrainTime">The time of <see cref="EncoderTraining.Train"/>.</param>
/// <param name="EncodeVectorsPerSecond">Base rows encoded per second (<see cref="EvalCommand.MeasureEncoding"/>).</param>
/// <param name="Result">The runner's measurements.</param>
internal sealed record EvalRow(string Name, int TrainRows, TimeSpan TrainTime, double EncodeVectorsPerSecond, EncoderEvaluation Result);

/// <summary>What <c>hdb eval</c> will do, after every input has been read and checked.</summary>
internal sealed class EvalPlan
{
    private EvalPlan(
        EvaluationData data, int[]? baseLabels, int trainRows, IReadOnlyList<EvalRun> runs, IReadOnlyList<int> oversample, VectorMetric metric, IReadOnlyList<string> notes)
    {
        Data = data;
        BaseLabels = baseLabels;
        TrainRows = trainRows;
        Runs = runs;
        Oversample = oversample;
        Metric = metric;
        Notes = notes;
    }

    /// <summary>What the runner measures on (base labels only with query labels: they enable the label metrics).</summary>
    public EvaluationData Data { get; }

    /// <summary>The base labels, given with or without query labels (GRH trains on them).</summary>
    public int[]? BaseLabels { get; }

    public int TrainRows { get; }

    /// <summary>The runs, by width and then in the order --encoders names them.</summary>
    public IReadOnlyList<EvalRun> Runs { get; }

    public IReadOnlyList<int> Oversample { get; }

    public VectorMetric Metric { get; }

    /// <summary>What the report should say about what was skipped or done differently from the options.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Parses the lists, reads every file and checks that they fit together and that every run can train.</summary>
    /// <exception cref="InputException">Anything wrong, named.</exception>
    public static EvalPlan Prepare(EvalOptions options)
    {
        // Options first (cheap), then files.
        List<string> encoders = ParseList(options.Encoders, "--encoders");
        foreach (string name in encoders)
        {
            CommonOptions.Require(EvalCommand.EncoderNames.Contains(name),
                $"--encoders: unknown encoder '{name}'; known: {string.Join(", ", EvalCommand.EncoderNames)}.");
        }
        encoders = [.. encoders.Distinct()];
        List<int> widths = [.. ParseList(options.Bits, "--bits").Select(text => ParseInt(text, "--bits")).Distinct().Order()];
        foreach (int width in widths)
        {
            CommonOptions.Require(width % 8 == 0 && width >= CodeLayout.MinCodeBits && width <= CodeLayout.MaxCodeBits,
                $"--bits: {width} is not a code width; a width is a multiple of 8 from {CodeLayout.MinCodeBits} to {CodeLayout.MaxCodeBits}.");
        }
        CommonOptions.Require(options.K >= 1, $"--k must be at least 1; got {options.K}.");
        List<int> oversample = [.. ParseList(options.Oversample, "--oversample").Select(text => ParseInt(text, "--oversample")).Distinct().Order()];
        foreach (int factor in oversample)
        {
            CommonOptions.Require(factor >= 1, $"--oversample: {factor} is not a factor; each must be at least 1.");
        }
        CommonOptions.Require(options.Threads >= 1, $"--threads must be at least 1; got {options.Threads}.");
        CommonOptions.Require(options.TrainRows is null or >= 1, $"--train-rows must be at least 1; got {options.TrainRows}.");
        CommonOptions.Require(options.QueryLabels is null || options.BaseLabels is not null, "--query-labels needs --base-labels.");
        VectorMetric metric = options.Metric switch
        {
            "cosine" => VectorMetric.Cosine,
            "dot" => VectorMetric.Dot,
            _ => VectorMetric.L2,
        };

        FloatVectors baseVectors = Load("--base", options.Base, path => DatasetFiles.LoadVectors(path));
        FloatVectors queryVectors = Load("--queries", options.Queries, path => DatasetFiles.LoadVectors(path));
        CommonOptions.Require(baseVectors.Count > 0, $"--base {options.Base} holds no vectors.");
        CommonOptions.Require(queryVectors.Count > 0, $"--queries {options.Queries} holds no vectors.");
        CommonOptions.Require(queryVectors.Dimension == baseVectors.Dimension,
            $"--queries {options.Queries} has dimension {queryVectors.Dimension}; --base {options.Base} has {baseVectors.Dimension}.");
        CommonOptions.Require(options.K <= baseVectors.Count, $"--k {options.K} exceeds the {baseVectors.Count} base rows.");
        int[]? baseLabels = options.BaseLabels is string bl ? Load("--base-labels", bl, DatasetFiles.LoadLabels) : null;
        CommonOptions.Require(baseLabels is null || baseLabels.Length == baseVectors.Count,
            $"--base-labels {options.BaseLabels} holds {baseLabels?.Length} labels; --base holds {baseVectors.Count} rows.");
        int[]? queryLabels = options.QueryLabels is string ql ? Load("--query-labels", ql, DatasetFiles.LoadLabels) : null;
        CommonOptions.Require(queryLabels is null || queryLabels.Length == queryVectors.Count,
            $"--query-labels {options.QueryLabels} holds {queryLabels?.Length} labels; --queries holds {queryVectors.Count} rows.");
        GroundTruth? truth = options.GroundTruth is string gt ? Load("--ground-truth", gt, DatasetFiles.LoadGroundTruth) : null;
        if (truth is not null)
        {
            CommonOptions.Require(truth.QueryCount == queryVectors.Count,
                $"--ground-truth {options.GroundTruth} covers {truth.QueryCount} queries; --queries holds {queryVectors.Count}.");
            CommonOptions.Require(truth.K >= options.K,
                $"--ground-truth {options.GroundTruth} lists {truth.K} neighbours per query; recall@{options.K} needs {options.K} (lower --k).");
            int outside = Array.FindIndex(truth.Ids, id => id >= baseVectors.Count);
            CommonOptions.Require(outside < 0,
                $"--ground-truth {options.GroundTruth}: query {outside / truth.K}, neighbour {outside % truth.K} is row {(outside < 0 ? 0 : truth.Ids[outside])}, outside the {baseVectors.Count} base rows.");
        }
        int trainRows = options.TrainRows ?? baseVectors.Count;
        CommonOptions.Require(trainRows <= baseVectors.Count, $"--train-rows {trainRows} exceeds the {baseVectors.Count} base rows.");

        var notes = new List<string>();
        (List<EvalRun> runs, List<string> runNotes) = PlanRuns(encoders, widths, options.Seed, baseVectors.Dimension, trainRows, baseLabels);
        notes.AddRange(runNotes);
        CommonOptions.Require(runs.Count > 0, $"nothing to evaluate: {string.Join(" ", runNotes)}");
        if (truth is null)
        {
            notes.Add("no --ground-truth: recall, with or without rescoring, is not measured.");
        }
        if (queryLabels is null)
        {
            notes.Add("no --query-labels: the label metrics (precision, mAP, NDCG, MRR) are not measured.");
        }

        var data = new EvaluationData
        {
            Base = baseVectors,
            Queries = queryVectors,
            BaseLabels = queryLabels is null ? null : baseLabels,
            QueryLabels = queryLabels,
            GroundTruth = truth,
        };
        return new EvalPlan(data, baseLabels, trainRows, runs, oversample, metric, notes);
    }

    private static (List<EvalRun> Runs, List<string> Notes) PlanRuns(
        List<string> encoders, List<int> widths, ulong seed, int dimension, int trainRows, int[]? baseLabels)
    {
        var notes = new List<string>();
        int bqWidth = (dimension + 7) / 8 * 8;
        var bq = encoders.Where(name => name.StartsWith("bq-", StringComparison.Ordinal)).ToList();
        if (bq.Count > 0)
        {
            CommonOptions.Require(bqWidth <= CodeLayout.MaxCodeBits,
                $"--encoders: {string.Join(", ", bq)} would make {bqWidth}-bit codes (one bit per dimension of {dimension}); the widest code is {CodeLayout.MaxCodeBits} bits.");
            notes.Add($"{string.Join(", ", bq)}: binary quantization makes one bit per dimension; measured once, at {bqWidth} bits, whatever --bits says.");
        }
        bool grh = encoders.Contains("grh");
        if (grh && baseLabels is null)
        {
            notes.Add("grh skipped: it is supervised and needs --base-labels.");
            encoders.Remove("grh");
        }
        else if (grh)
        {
            int first = baseLabels![0];
            CommonOptions.Require(baseLabels.AsSpan(0, trainRows).ContainsAnyExcept(first),
                $"--encoders grh needs at least two classes among the {trainRows} training rows; every label is {first}.");
        }

        var runs = new List<EvalRun>();
        IEnumerable<int> allWidths = bq.Count > 0 ? widths.Append(bqWidth).Distinct().Order() : widths;
        foreach (int width in allWidths)
        {
            foreach (string name in encoders)
            {
                bool isBq = name.StartsWith("bq-", StringComparison.Ordinal);
                if (isBq ? width == bqWidth : widths.Contains(width))
                {
                    runs.Add(new EvalRun(name, Spec(name, width, seed)));
                }
            }
        }
        foreach (EvalRun run in runs)
        {
            CheckTrainable(run, dimension, trainRows);
        }
        return (runs, notes);
    }

    private static EncoderSpec Spec(string name, int width, ulong seed) => name switch
    {
        "lsh" => new EncoderSpec(EncoderKind.Lsh, width, seed),
        "lsh-centered" => new EncoderSpec(EncoderKind.Lsh, width, seed) { Lsh = new LshOptions { Center = true } },
        "bq-sign" => BinaryQuantization(width, seed, QuantizationThreshold.Sign),
        "bq-mean" => BinaryQuantization(width, seed, QuantizationThreshold.Mean),
        "bq-median" => BinaryQuantization(width, seed, QuantizationThreshold.Median),
        "itq" => new EncoderSpec(EncoderKind.Itq, width, seed),
        _ => new EncoderSpec(EncoderKind.Grh, width, seed),
    };

    private static EncoderSpec BinaryQuantization(int width, ulong seed, QuantizationThreshold threshold) =>
        new(EncoderKind.BinaryQuantization, width, seed) { BinaryQuantization = new BinaryQuantizationOptions { Threshold = threshold } };

    /// <summary>The checks of <see cref="EncoderTraining.Train"/> that depend on the options, made before any training (named in the options' terms).</summary>
    private static void CheckTrainable(EvalRun run, int dimension, int trainRows)
    {
        EncoderSpec spec = run.Spec;
        int minimum = EncoderTraining.MinimumRows(spec);
        CommonOptions.Require(trainRows >= minimum,
            $"{run.Name} at {spec.CodeBits} bits needs at least {minimum} training rows; there are {trainRows} (--train-rows, or the base's rows).");
        CommonOptions.Require(spec.Kind == EncoderKind.BinaryQuantization || (long)spec.CodeBits * dimension <= EncoderTraining.MaxProjectionFloats,
            $"{run.Name} at {spec.CodeBits} bits of dimension {dimension} would hold {(long)spec.CodeBits * dimension} floats of hyperplanes; the limit is {EncoderTraining.MaxProjectionFloats}.");
        CommonOptions.Require(spec.Kind != EncoderKind.Itq || dimension <= EncoderTraining.MaxItqDimension,
            $"itq takes at most {EncoderTraining.MaxItqDimension} dimensions; the vectors have {dimension}.");
        CommonOptions.Require(spec.Kind is not (EncoderKind.Itq or EncoderKind.Grh) || (long)trainRows * spec.CodeBits <= Array.MaxLength,
            $"{trainRows} training rows x {spec.CodeBits} bits are too many for {run.Name}; lower --train-rows.");
    }

    private static List<string> ParseList(string text, string option)
    {
        string[] items = text.Split(',', StringSplitOptions.TrimEntries);
        CommonOptions.Require(items.All(item => item.Length > 0), $"{option}: '{text}' is not a comma-separated list (an item is empty).");
        return [.. items];
    }

    private static int ParseInt(string text, string option)
    {
        CommonOptions.Require(int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value), $"{option}: '{text}' is not an integer.");
        return value;
    }

    /// <summary>Reads a file, turning a missing or malformed one into bad input that names the option and the file.</summary>
    private static T Load<T>(string option, string path, Func<string, T> load)
    {
        CommonOptions.Require(File.Exists(path), $"{option} {path}: no such file.");
        try
        {
            return load(path);
        }
        catch (InvalidDataException e)
        {
            // The message names the file, the row or offset, and the problem.
            throw new InputException($"{option}: {e.Message}");
        }
    }
}
