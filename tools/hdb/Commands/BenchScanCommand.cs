using System.CommandLine;
using HammingDB.Kernels;

namespace HammingDB.Cli.Commands;

/// <summary><c>hdb bench scan</c>: exact exhaustive search over .hdbc files, one JSON line per run.</summary>
internal static class BenchScanCommand
{
    public static Command Build(CliContext context)
    {
        var codes = new Option<FileInfo>("--codes") { Description = "The database codes (.hdbc, as ../shared/bench/gencodes.c writes).", Required = true };
        var queries = new Option<FileInfo>("--queries") { Description = "The query codes (.hdbc, same width).", Required = true };
        var k = new Option<int?>("--k") { Description = "Exact k nearest neighbours (ties by smaller row)." };
        var radius = new Option<int?>("--radius") { Description = "Every code within this Hamming distance (inclusive)." };
        var threads = new Option<int>("--threads") { Description = "Threads: split one query's codes (single) or the batch (batch).", DefaultValueFactory = _ => 1 };
        var mode = new Option<string>("--mode") { Description = "single: one query at a time, per-query latency; batch: the whole batch, tiled.", DefaultValueFactory = _ => "single" };
        mode.AcceptOnlyFromAmong("single", "batch");
        var isa = new Option<string?>("--isa") { Description = "Kernel path: scalar, avx2, avx512 or avx512vbmi (default: the best this CPU has, capped by HAMMINGDB_ISA)." };
        isa.AcceptOnlyFromAmong("scalar", "avx2", "avx512", "avx512vbmi");
        var limit = new Option<long>("--query-limit") { Description = "Use only the first N queries (0: all).", DefaultValueFactory = _ => 0 };
        var tile = new Option<int>("--tile-kib") { Description = "Batch mode: KiB of codes per cache tile (default 256).", DefaultValueFactory = _ => 256 };
        var results = new Option<FileInfo?>("--results") { Description = "Also write per query 'kth-distance count' lines, as scan.c does, for cross-checking." };

        var command = new Command("scan", "Exact exhaustive search (popcount scan) of an .hdbc file.")
        {
            codes, queries, k, radius, threads, mode, isa, limit, tile, results,
        };
        command.SetAction(parse =>
        {
            int? kValue = parse.GetValue(k);
            int? radiusValue = parse.GetValue(radius);
            CommonOptions.RequireKOrRadius(kValue, radiusValue);
            CommonOptions.Require(parse.GetValue(threads) >= 1, $"--threads must be at least 1; got {parse.GetValue(threads)}.");
            CommonOptions.Require(parse.GetValue(limit) >= 0, $"--query-limit must not be negative; got {parse.GetValue(limit)}.");
            CommonOptions.Require(parse.GetValue(tile) is >= 4 and <= 1 << 20, $"--tile-kib must be from 4 to 1048576; got {parse.GetValue(tile)}.");
            string? isaName = parse.GetValue(isa);
            var settings = new ScanBenchmarkSettings(
                parse.GetRequiredValue(codes).FullName,
                parse.GetRequiredValue(queries).FullName,
                kValue,
                radiusValue,
                parse.GetValue(threads),
                parse.GetValue(mode) == "batch",
                isaName is null ? null : Isa.Parse(isaName),
                parse.GetValue(limit),
                parse.GetValue(tile) * 1024,
                parse.GetValue(results)?.FullName);
            return ScanBenchmark.Run(settings, context.Stdout, context.Stderr);
        });
        return command;
    }
}
