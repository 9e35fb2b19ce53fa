using System.CommandLine;
using System.Runtime.ExceptionServices;
using HammingDB.Cli.Input;
using HammingDB.Cli.Output;
using HammingDB.Encoders;

namespace HammingDB.Cli.Commands;

/// <summary>What <c>hdb query</c> was asked to do.</summary>
internal sealed record QuerySettings(string Database, string Collection, string? File, InputFormat Format, int? K, int? Radius, string Output, int Threads,
    QueryPlan Plan = QueryPlan.Auto, int? Rescore = null, VectorMetric Metric = VectorMetric.L2);

/// <summary>
/// <c>hdb query DB [FILE|-] --format hdbc|hex|ndjson|hdbf|fvecs (--k K [--rescore OVERSAMPLE [--metric l2|cosine|dot]] | --radius R)
/// [--output ndjson|json|csv|table] [--threads N] [--plan auto|mih|scan]</c>.
/// </summary>
internal static class QueryCommand
{
    // Queries run in chunks: the chunk in parallel, its results written in query order before the next.
    private const int ChunkQueries = 1024;

    public static Command Build(CliContext context)
    {
        var database = CommonOptions.Database();
        var file = CommonOptions.InputFile();
        var collection = CommonOptions.Collection();
        var format = CommonOptions.Format(
            "The query format: hdbc, hex (one code per line), ndjson ({\"code\":\"HEX\"} or {\"vector\":[x,...]} per line; other members are ignored), " +
            "or float vectors in hdbf or fvecs. Vectors need a collection with an encoder (hdb train): each is encoded by it.", vectors: true);
        var k = new Option<int?>("--k") { Description = "The k nearest rows of each query, nearest first, ties by key." };
        var radius = new Option<int?>("--radius") { Description = "Every row within this Hamming distance (inclusive), nearest first, ties by key." };
        var rescore = new Option<int?>("--rescore")
        {
            Description = "With --k and vector queries: fetch k * OVERSAMPLE rows by Hamming distance, re-rank them by --metric on the stored vectors, " +
                "return the k nearest with both distances (\"vector_distance\" beside \"distance\").",
        };
        var metric = new Option<string?>("--metric") { Description = "The vector distance of --rescore: l2 (squared Euclidean, the default), cosine (1 - cos) or dot (the negated dot product)." };
        metric.AcceptOnlyFromAmong("l2", "cosine", "dot");
        var output = new Option<string>("--output")
        {
            Description = "ndjson (default): {\"query\":I,\"results\":[{\"key\":K,\"distance\":D},...]} per query; json: one array of those; csv: query,key,distance; table.",
            DefaultValueFactory = _ => "ndjson",
        };
        output.AcceptOnlyFromAmong("ndjson", "json", "csv", "table");
        var threads = new Option<int>("--threads") { Description = "Queries run in parallel on N threads; output stays in query order.", DefaultValueFactory = _ => 1 };
        var plan = CommonOptions.Plan();
        var command = new Command("query", "Exact k-nearest or radius search for each query code (or float vector) of FILE (or standard input). All queries are read first: bad input prints no results.")
        {
            database, file, collection, format, k, radius, rescore, metric, output, threads, plan,
        };
        command.SetAction(parse =>
        {
            int? kValue = parse.GetValue(k), radiusValue = parse.GetValue(radius), oversample = parse.GetValue(rescore);
            string? metricName = parse.GetValue(metric);
            CommonOptions.RequireKOrRadius(kValue, radiusValue);
            CommonOptions.Require(parse.GetValue(threads) >= 1, $"--threads must be at least 1; got {parse.GetValue(threads)}.");
            CommonOptions.Require(oversample is null || kValue is not null, "--rescore re-ranks the k nearest: it goes with --k, not --radius.");
            CommonOptions.Require(oversample is null or >= 1, $"--rescore (the oversampling factor) must be at least 1; got {oversample}.");
            CommonOptions.Require(oversample is null || (long)oversample * kValue!.Value <= int.MaxValue,
                $"--k {kValue} x --rescore {oversample} candidates is more than {int.MaxValue}.");
            CommonOptions.Require(metricName is null || oversample is not null, "--metric is the distance of --rescore; give --rescore OVERSAMPLE too.");
            var settings = new QuerySettings(
                parse.GetRequiredValue(database),
                parse.GetRequiredValue(collection),
                parse.GetValue(file),
                InputSource.ParseFormat(parse.GetRequiredValue(format)),
                kValue,
                radiusValue,
                parse.GetRequiredValue(output),
                parse.GetValue(threads),
                CommonOptions.ParsePlan(parse.GetRequiredValue(plan)),
                oversample,
                ParseMetric(metricName));
            return CommonOptions.Wait(() => RunAsync(settings, context));
        });
        return command;
    }

    /// <summary>The metric named by --metric (default L2).</summary>
    public static VectorMetric ParseMetric(string? name) => name switch
    {
        "cosine" => VectorMetric.Cosine,
        "dot" => VectorMetric.Dot,
        _ => VectorMetric.L2,
    };

    public static async Task<int> RunAsync(QuerySettings settings, CliContext context)
    {
        using HammingDatabase db = DatabaseSession.OpenReadOnly(settings.Database);
        CollectionInfo info = DatabaseSession.Find(db, settings.Collection);
        VectorEncoder? encoder = StoredEncoder.Load(db, info);
        QuerySet queries;
        using (InputSource source = InputSource.Open(settings.File, context.Stdin))
        {
            queries = await QueryReader.ReadAsync(source, settings.Format, new Kernels.CodeLayout(info.CodeBits), info.Name, encoder,
                StoredEncoder.Missing(db, info)).ConfigureAwait(false);
        }
        CommonOptions.Require(settings.Rescore is null || queries.Vectors is not null,
            "--rescore re-ranks by float vectors: give vector queries (--format hdbf or fvecs, or ndjson lines with \"vector\"), not codes.");
        DatabaseSession.Run(db, info, new Action(settings, queries, context.Stdout));
        context.Stdout.Flush();
        return ExitCodes.Ok;
    }

    private sealed class Action(QuerySettings settings, QuerySet queries, TextWriter stdout) : ICollectionAction<bool>
    {
        public bool Run<TKey>(HammingCollection<TKey> collection, CollectionInfo info, KeyFormat<TKey> keys)
            where TKey : notnull
        {
            using QueryOutput<TKey> output = QueryOutput<TKey>.Create(settings.Output, stdout, keys, rescored: settings.Rescore is not null);
            output.Begin();
            List<ulong[]> codes = queries.Codes;
            for (int start = 0; start < codes.Count; start += ChunkQueries)
            {
                int count = Math.Min(ChunkQueries, codes.Count - start);
                if (settings.Rescore is int oversample)
                {
                    IReadOnlyList<RescoredResult<TKey>>[] rescored = Rescore(collection, start, count, settings.K!.Value, oversample);
                    for (int i = 0; i < count; i++)
                    {
                        output.Query(start + i, rescored[i]);
                    }
                    continue;
                }
                // A chunk is one batch: each query planned per segment, those left to the scan scanned together.
                ReadOnlyMemory<ulong>[] chunk = [.. codes.Skip(start).Take(count).Select(q => new ReadOnlyMemory<ulong>(q))];
                IReadOnlyList<IReadOnlyList<SearchResult<TKey>>> results;
                try
                {
                    results = settings.K is { } k
                        ? collection.KnnBatch(chunk, k, settings.Threads, settings.Plan)
                        : collection.RadiusBatch(chunk, settings.Radius!.Value, settings.Threads, settings.Plan);
                }
                catch (AggregateException e) when (e.InnerExceptions.Count == 1)
                {
                    // A storage error keeps its own exit code rather than becoming an internal error.
                    ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
                    throw;
                }
                for (int i = 0; i < chunk.Length; i++)
                {
                    output.Query(start + i, results[i]);
                }
            }
            output.End();
            return true;
        }

        // Each query of the chunk rescored on its own (in parallel on --threads), results in query order.
        private IReadOnlyList<RescoredResult<TKey>>[] Rescore<TKey>(HammingCollection<TKey> collection, int start, int count, int k, int oversample)
            where TKey : notnull
        {
            var results = new IReadOnlyList<RescoredResult<TKey>>[count];
            try
            {
                Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = settings.Threads }, i =>
                    results[i] = collection.KnnRescored(queries.Codes[start + i], queries.Vectors![start + i], k, oversample, settings.Metric, settings.Plan));
            }
            catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
            {
                ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
                throw;
            }
            return results;
        }
    }
}
