using System.CommandLine;
using System.Runtime.ExceptionServices;
using HammingDB.Cli.Input;
using HammingDB.Cli.Output;

namespace HammingDB.Cli.Commands;

/// <summary>What <c>hdb query</c> was asked to do.</summary>
internal sealed record QuerySettings(string Database, string Collection, string? File, InputFormat Format, int? K, int? Radius, string Output, int Threads, QueryPlan Plan = QueryPlan.Auto);

/// <summary><c>hdb query DB [FILE|-] --format hdbc|hex|ndjson (--k K | --radius R) [--output ndjson|json|csv|table] [--threads N] [--plan auto|mih|scan]</c>.</summary>
internal static class QueryCommand
{
    // Queries run in chunks: the chunk in parallel, its results written in query order before the next.
    private const int ChunkQueries = 1024;

    public static Command Build(CliContext context)
    {
        var database = CommonOptions.Database();
        var file = CommonOptions.InputFile();
        var collection = CommonOptions.Collection();
        var format = CommonOptions.Format("The query format: hdbc, hex (one code per line) or ndjson ({\"code\":\"HEX\"} per line; other members are ignored).");
        var k = new Option<int?>("--k") { Description = "The k nearest rows of each query, nearest first, ties by key." };
        var radius = new Option<int?>("--radius") { Description = "Every row within this Hamming distance (inclusive), nearest first, ties by key." };
        var output = new Option<string>("--output")
        {
            Description = "ndjson (default): {\"query\":I,\"results\":[{\"key\":K,\"distance\":D},...]} per query; json: one array of those; csv: query,key,distance; table.",
            DefaultValueFactory = _ => "ndjson",
        };
        output.AcceptOnlyFromAmong("ndjson", "json", "csv", "table");
        var threads = new Option<int>("--threads") { Description = "Queries run in parallel on N threads; output stays in query order.", DefaultValueFactory = _ => 1 };
        var plan = CommonOptions.Plan();
        var command = new Command("query", "Exact k-nearest or radius search for each query code of FILE (or standard input). All queries are read first: bad input prints no results.")
        {
            database, file, collection, format, k, radius, output, threads, plan,
        };
        command.SetAction(parse =>
        {
            int? kValue = parse.GetValue(k), radiusValue = parse.GetValue(radius);
            CommonOptions.RequireKOrRadius(kValue, radiusValue);
            CommonOptions.Require(parse.GetValue(threads) >= 1, $"--threads must be at least 1; got {parse.GetValue(threads)}.");
            var settings = new QuerySettings(
                parse.GetRequiredValue(database),
                parse.GetRequiredValue(collection),
                parse.GetValue(file),
                InputSource.ParseFormat(parse.GetRequiredValue(format)),
                kValue,
                radiusValue,
                parse.GetRequiredValue(output),
                parse.GetValue(threads),
                CommonOptions.ParsePlan(parse.GetRequiredValue(plan)));
            return CommonOptions.Wait(() => RunAsync(settings, context));
        });
        return command;
    }

    public static Task<int> RunAsync(QuerySettings settings, CliContext context) =>
        DatabaseSession.SearchAsync(settings.Database, settings.Collection, settings.File, settings.Format, context,
            queries => new Action(settings, queries, context.Stdout));

    private sealed class Action(QuerySettings settings, List<ulong[]> queries, TextWriter stdout) : ICollectionAction<bool>
    {
        public bool Run<TKey>(HammingCollection<TKey> collection, CollectionInfo info, KeyFormat<TKey> keys)
            where TKey : notnull
        {
            using QueryOutput<TKey> output = QueryOutput<TKey>.Create(settings.Output, stdout, keys);
            output.Begin();
            for (int start = 0; start < queries.Count; start += ChunkQueries)
            {
                // A chunk is one batch: each query planned per segment, those left to the scan scanned together.
                ReadOnlyMemory<ulong>[] chunk = [.. queries.Skip(start).Take(ChunkQueries).Select(q => new ReadOnlyMemory<ulong>(q))];
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
    }
}
