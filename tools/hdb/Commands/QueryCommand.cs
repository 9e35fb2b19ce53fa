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
        var command = new Command("query", "Exact k-nearest or radius search for each query code (or float vector) of FILE (or standard input). Bad input prints no results: " +
            $"a regular file is checked whole, then run {QueryReader.ChunkQueries} queries at a time (any length, in bounded memory); " +
            $"standard input or a pipe is read whole before any query runs, and may hold at most {QueryReader.MaxHeldBytes >> 20} MiB of queries.")
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
        var layout = new Kernels.CodeLayout(info.CodeBits);
        string noEncoder = StoredEncoder.Missing(db, info);
        using InputSource source = InputSource.Open(settings.File, context.Stdin);
        if (source.IsRegularFile)
        {
            // Checked whole first (bad input prints nothing), then read again and run a chunk at a time: any length in bounded memory.
            bool? areVectors = await QueryReader.ForEachChunkAsync(source, settings.Format, layout, info.Name, encoder, noEncoder, _ => { }).ConfigureAwait(false);
            RequireVectorsToRescore(settings, areVectors == true);
            source.Rewind();
            DatabaseSession.Run(db, info, new RunQueries(settings, context.Stdout, run => QueryReader.ForEachChunkAsync(source, settings.Format, layout, info.Name,
                encoder, noEncoder, run).GetAwaiter().GetResult()));
        }
        else
        {
            // Standard input or a pipe is read once: every query is held (up to QueryReader.MaxHeldBytes) before any runs.
            QuerySet queries = await QueryReader.ReadAsync(source, settings.Format, layout, info.Name, encoder, noEncoder).ConfigureAwait(false);
            RequireVectorsToRescore(settings, queries.Vectors is not null);
            DatabaseSession.Run(db, info, new RunQueries(settings, context.Stdout, run =>
            {
                for (int start = 0; start < queries.Codes.Count; start += QueryReader.ChunkQueries)
                {
                    int count = Math.Min(QueryReader.ChunkQueries, queries.Codes.Count - start);
                    run(new QuerySet(queries.Codes.GetRange(start, count), queries.Vectors?.GetRange(start, count)));
                }
            }));
        }
        context.Stdout.Flush();
        return ExitCodes.Ok;
    }

    private static void RequireVectorsToRescore(QuerySettings settings, bool vectors) =>
        CommonOptions.Require(settings.Rescore is null || vectors,
            "--rescore re-ranks by float vectors: give vector queries (--format hdbf or fvecs, or ndjson lines with \"vector\"), not codes.");

    // Runs the queries <paramref name="chunks"/> hands over, one chunk at a time, writing each chunk's results in query order.
    private sealed class RunQueries(QuerySettings settings, TextWriter stdout, Action<Action<QuerySet>> chunks) : ICollectionAction<bool>
    {
        public bool Run<TKey>(HammingCollection<TKey> collection, CollectionInfo info, KeyFormat<TKey> keys)
            where TKey : notnull
        {
            using QueryOutput<TKey> output = QueryOutput<TKey>.Create(settings.Output, stdout, keys, rescored: settings.Rescore is not null);
            output.Begin();
            int start = 0;
            chunks(queries =>
            {
                RunChunk(collection, output, queries, start);
                start += queries.Codes.Count;
            });
            output.End();
            return true;
        }

        private void RunChunk<TKey>(HammingCollection<TKey> collection, QueryOutput<TKey> output, QuerySet queries, int start)
            where TKey : notnull
        {
            List<ulong[]> codes = queries.Codes;
            if (settings.Rescore is int oversample)
            {
                IReadOnlyList<RescoredResult<TKey>>[] rescored = Rescore(collection, queries, settings.K!.Value, oversample);
                for (int i = 0; i < codes.Count; i++)
                {
                    output.Query(start + i, rescored[i]);
                }
                return;
            }
            // A chunk is one batch: each query planned per segment, those left to the scan scanned together.
            ReadOnlyMemory<ulong>[] chunk = [.. codes.Select(q => new ReadOnlyMemory<ulong>(q))];
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

        // Each query of the chunk rescored on its own (in parallel on --threads), results in query order.
        private IReadOnlyList<RescoredResult<TKey>>[] Rescore<TKey>(HammingCollection<TKey> collection, QuerySet queries, int k, int oversample)
            where TKey : notnull
        {
            var results = new IReadOnlyList<RescoredResult<TKey>>[queries.Codes.Count];
            try
            {
                Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = settings.Threads }, i =>
                    results[i] = collection.KnnRescored(queries.Codes[i], queries.Vectors![i], k, oversample, settings.Metric, settings.Plan));
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
