using System.CommandLine;
using System.Globalization;

namespace HammingDB.Cli.Commands;

/// <summary><c>hdb bench plan</c>: forced MIH, forced scan and auto on a database, per radius and k, one JSON line each.</summary>
internal static class BenchPlanCommand
{
    public static Command Build(CliContext context)
    {
        var codes = new Option<FileInfo>("--codes") { Description = "The codes (.hdbc); key = row index.", Required = true };
        var queries = new Option<FileInfo>("--queries") { Description = "The query codes (.hdbc, same width).", Required = true };
        var database = new Option<DirectoryInfo>("--db") { Description = "The database: built from the codes when the directory is new or empty, reused otherwise.", Required = true };
        var radii = new Option<string>("--radii") { Description = "Radii, e.g. 0-16,24,32 (default 0..bits/2).", DefaultValueFactory = _ => "" };
        var ks = new Option<string>("--k") { Description = "k values of kNN points, e.g. 1,10 (default 1,10).", DefaultValueFactory = _ => "1,10" };
        var limit = new Option<long>("--query-limit") { Description = "Use only the first N queries (0: all).", DefaultValueFactory = _ => 200 };
        var seconds = new Option<double>("--seconds") { Description = "Time spent per point, roughly (at least 3 queries).", DefaultValueFactory = _ => 10 };
        var skipMihOver = new Option<double>("--skip-mih-over")
        {
            Description = "Once forced MIH takes this many times the scan at a radius, larger radii time only the scan and auto (MIH only gets slower as the radius grows).",
            DefaultValueFactory = _ => 20,
        };
        var command = new Command("plan", "The planner on a database of one segment: forced MIH, forced scan and auto per radius and k (answers compared).")
        {
            codes, queries, database, radii, ks, limit, seconds, skipMihOver,
        };
        command.SetAction(parse =>
        {
            CommonOptions.Require(parse.GetValue(limit) >= 0, $"--query-limit must not be negative; got {parse.GetValue(limit)}.");
            CommonOptions.Require(parse.GetValue(seconds) > 0, $"--seconds must be positive; got {parse.GetValue(seconds)}.");
            CommonOptions.Require(parse.GetValue(skipMihOver) >= 1, $"--skip-mih-over must be at least 1; got {parse.GetValue(skipMihOver)}.");
            string codesPath = parse.GetRequiredValue(codes).FullName;
            int bits = HdbcFile.Read(codesPath, 1).Layout.CodeBits;
            string radiiText = parse.GetRequiredValue(radii);
            var settings = new PlanBenchmarkSettings(codesPath, parse.GetRequiredValue(queries).FullName, parse.GetRequiredValue(database).FullName,
                radiiText.Length == 0 ? Enumerable.Range(0, (bits / 2) + 1).ToList() : ParseList("--radii", radiiText, 0),
                ParseList("--k", parse.GetRequiredValue(ks), 1), parse.GetValue(limit), parse.GetValue(seconds), parse.GetValue(skipMihOver));
            return PlanBenchmark.Run(settings, context.Stdout, context.Stderr);
        });
        return command;
    }

    /// <summary>"0-3,8,12-13" as [0, 1, 2, 3, 8, 12, 13]; every value at least <paramref name="min"/>.</summary>
    internal static List<int> ParseList(string option, string text, int min)
    {
        var values = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string[] ends = part.Split('-');
            bool ok = ends.Length is 1 or 2 & ends.All(e => int.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out _));
            CommonOptions.Require(ok, $"{option}: '{part}' is not a number or a range like 2-8.");
            int lo = int.Parse(ends[0], CultureInfo.InvariantCulture);
            int hi = int.Parse(ends[^1], CultureInfo.InvariantCulture);
            CommonOptions.Require(lo >= min && hi >= lo, $"{option}: '{part}' must be a range of values of at least {min}, low to high.");
            values.AddRange(Enumerable.Range(lo, hi - lo + 1));
        }
        CommonOptions.Require(values.Count > 0, $"{option}: no values given.");
        return values;
    }
}
