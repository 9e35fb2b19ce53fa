using System.CommandLine;

namespace HammingDB.Cli.Commands;

/// <summary><c>hdb bench mih</c>: in-memory multi-index hashing against the exhaustive scan, one JSON line.</summary>
internal static class BenchMihCommand
{
    public static Command Build(CliContext context)
    {
        var codes = new Option<FileInfo>("--codes") { Description = "The codes (.hdbc).", Required = true };
        var queries = new Option<FileInfo>("--queries") { Description = "The query codes (.hdbc, same width).", Required = true };
        var k = new Option<int?>("--k") { Description = "Exact k nearest neighbours (ties by smaller row)." };
        var radius = new Option<int?>("--radius") { Description = "Every code within this Hamming distance (inclusive)." };
        var substrings = new Option<int?>("--substrings") { Description = "Substring count m (default: chosen from the row count and width)." };
        var limit = new Option<long>("--query-limit") { Description = "Use only the first N queries (0: all).", DefaultValueFactory = _ => 0 };
        var filterWords = new Option<string>("--filter-words")
        {
            Description = "Filter words beside the postings of codes over 64 bits: off, on, or both (two indexes timed side by side, alternating which goes first).",
            DefaultValueFactory = _ => "off",
        };
        filterWords.AcceptOnlyFromAmong("off", "on", "both");
        var thresholds = new Option<string>("--thresholds")
        {
            Description = "How a radius search spreads the radius over the substrings: auto (the engine's default: adaptive where the pigeonhole rule's buckets are crowded), " +
                "adaptive (per query, from the query's bucket sizes), pigeonhole; or two of them separated by a comma, timed side by side on the same tables (both: adaptive,pigeonhole).",
            DefaultValueFactory = _ => "auto",
        };
        thresholds.Validators.Add(result =>
        {
            string value = result.GetValueOrDefault<string>() ?? "";
            string[] names = value == "both" ? ["adaptive", "pigeonhole"] : value.Split(',');
            if (names.Length > 2 || names.Any(n => n is not ("pigeonhole" or "adaptive" or "auto")) || names.Distinct().Count() != names.Length)
            {
                result.AddError($"--thresholds takes auto, adaptive, pigeonhole, or two of them separated by a comma; got '{value}'.");
            }
        });
        var command = new Command("mih", "Multi-index hashing tables built in memory over an .hdbc file, against the exhaustive scan (build rate, memory, per-query time, answers compared).")
        {
            codes, queries, k, radius, substrings, limit, filterWords, thresholds,
        };
        command.SetAction(parse =>
        {
            int? kValue = parse.GetValue(k);
            int? radiusValue = parse.GetValue(radius);
            CommonOptions.RequireKOrRadius(kValue, radiusValue);
            CommonOptions.Require(parse.GetValue(substrings) is null or >= 1, $"--substrings must be at least 1; got {parse.GetValue(substrings)}.");
            CommonOptions.Require(parse.GetValue(limit) >= 0, $"--query-limit must not be negative; got {parse.GetValue(limit)}.");
            var settings = new MihBenchmarkSettings(parse.GetRequiredValue(codes).FullName, parse.GetRequiredValue(queries).FullName,
                kValue, radiusValue, parse.GetValue(substrings), parse.GetValue(limit), parse.GetRequiredValue(filterWords), parse.GetRequiredValue(thresholds));
            return MihBenchmark.Run(settings, context.Stdout, context.Stderr);
        });
        return command;
    }
}
