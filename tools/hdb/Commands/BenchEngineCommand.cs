using System.CommandLine;

namespace HammingDB.Cli.Commands;

/// <summary><c>hdb bench engine</c>: durable ingest, compaction, reopen and kNN on a database, one JSON line each.</summary>
internal static class BenchEngineCommand
{
    public static Command Build(CliContext context)
    {
        var codes = new Option<FileInfo>("--codes") { Description = "The codes to ingest (.hdbc); key = row index.", Required = true };
        var queries = new Option<FileInfo>("--queries") { Description = "The query codes (.hdbc, same width).", Required = true };
        var database = new Option<DirectoryInfo>("--db") { Description = "A new or empty directory for the database.", Required = true };
        var k = new Option<int>("--k") { Description = "k of the kNN queries.", DefaultValueFactory = _ => 10 };
        var batchRows = new Option<int>("--batch-rows") { Description = "Rows per durable batch.", DefaultValueFactory = _ => 65536 };
        var sealRows = new Option<int>("--seal-rows") { Description = "Rows a memtable holds before it is sealed.", DefaultValueFactory = _ => DatabaseOptions.Default.SealRows };
        var reopens = new Option<int>("--reopens") { Description = "How many times to time a reopen to the first answered query.", DefaultValueFactory = _ => 5 };
        var limit = new Option<long>("--query-limit") { Description = "Use only the first N queries (0: all).", DefaultValueFactory = _ => 100 };
        var command = new Command("engine", "Durable ingest (rows/s), compaction (rows/s), reopen to the first query, and kNN on the database vs the in-memory scan.")
        {
            codes, queries, database, k, batchRows, sealRows, reopens, limit,
        };
        command.SetAction(parse =>
        {
            CommonOptions.Require(parse.GetValue(k) >= 1, $"--k must be at least 1; got {parse.GetValue(k)}.");
            CommonOptions.Require(parse.GetValue(batchRows) >= 1, $"--batch-rows must be at least 1; got {parse.GetValue(batchRows)}.");
            CommonOptions.Require(parse.GetValue(sealRows) >= 1, $"--seal-rows must be at least 1; got {parse.GetValue(sealRows)}.");
            CommonOptions.Require(parse.GetValue(reopens) >= 1, $"--reopens must be at least 1; got {parse.GetValue(reopens)}.");
            CommonOptions.Require(parse.GetValue(limit) >= 0, $"--query-limit must not be negative; got {parse.GetValue(limit)}.");
            var settings = new EngineBenchmarkSettings(
                parse.GetRequiredValue(codes).FullName,
                parse.GetRequiredValue(queries).FullName,
                parse.GetRequiredValue(database).FullName,
                parse.GetValue(k),
                parse.GetValue(batchRows),
                parse.GetValue(sealRows),
                parse.GetValue(reopens),
                parse.GetValue(limit));
            return EngineBenchmark.Run(settings, context.Stdout, context.Stderr);
        });
        return command;
    }
}
