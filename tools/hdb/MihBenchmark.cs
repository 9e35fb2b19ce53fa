using System.Diagnostics;
using System.Text.Json;
using HammingDB.Index.Mih;
using HammingDB.Kernels;

namespace HammingDB.Cli;

/// <summary>What <c>hdb bench mih</c> runs.</summary>
internal sealed record MihBenchmarkSettings(string CodesPath, string QueriesPath, int? K, int? Radius, int? Substrings, long QueryLimit);

/// <summary>
/// The in-memory multi-index hashing tables against the exhaustive scan on the same codes: table
/// build (codes/s), memory beyond the codes (bytes per code), and per query MIH and scan time,
/// alternating, with the answers compared. One JSON line per run.
/// </summary>
internal static class MihBenchmark
{
    public static int Run(MihBenchmarkSettings settings, TextWriter stdout, TextWriter stderr)
    {
        PackedCodes codes = HdbcFile.Read(settings.CodesPath);
        PackedCodes queries = HdbcFile.Read(settings.QueriesPath, settings.QueryLimit);
        if (queries.Layout != codes.Layout)
        {
            throw new InputException($"{settings.QueriesPath}: the queries are {queries.Layout.CodeBits}-bit codes but {settings.CodesPath} holds {codes.Layout.CodeBits}-bit codes.");
        }
        MihLayout layout = settings.Substrings is int m
            ? MihLayout.Split(codes.Layout.CodeBits, m)
            : MihLayout.Choose(codes.Layout.CodeBits, codes.Count);
        stderr.WriteLine($"hdb bench mih: {codes.Count} codes of {codes.Layout.CodeBits} bits, {layout.Count} substrings, building");
        var clock = Stopwatch.StartNew();
        var index = new MihIndex(codes.Block, layout);
        double buildSeconds = clock.Elapsed.TotalSeconds;
        long tableBytes = index.Bytes;

        var scanOptions = new SearchOptions { Threads = 1 };
        bool knn = settings.K is not null;
        Neighbor[] Mih(int q) => knn ? index.Knn(queries[q], settings.K!.Value) : index.Radius(queries[q], settings.Radius!.Value);
        Neighbor[] Scan(int q) => knn ? ExhaustiveSearch.Knn(codes, queries[q], settings.K!.Value, scanOptions) : ExhaustiveSearch.Radius(codes, queries[q], settings.Radius!.Value, scanOptions);
        for (int q = 0; q < Math.Min(queries.Count, 20); q++)
        {
            Mih(q);
            Scan(q);
        }
        var mihMs = new double[queries.Count];
        var scanMs = new double[queries.Count];
        int mismatches = 0;
        long results = 0;
        for (int q = 0; q < queries.Count; q++)
        {
            clock.Restart();
            Neighbor[] fromMih = Mih(q);
            mihMs[q] = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            Neighbor[] fromScan = Scan(q);
            scanMs[q] = clock.Elapsed.TotalMilliseconds;
            results += fromMih.Length;
            mismatches += fromMih.AsSpan().SequenceEqual(fromScan) ? 0 : 1;
        }
        double mihMean = mihMs.Average();
        double scanMean = scanMs.Average();
        Array.Sort(mihMs);
        Array.Sort(scanMs);
        stdout.WriteLine(JsonSerializer.Serialize(new
        {
            bench = "mih",
            workload = Path.GetFileNameWithoutExtension(settings.CodesPath),
            bits = codes.Layout.CodeBits,
            codes = codes.Count,
            substrings = layout.Count,
            op = knn ? "knn" : "radius",
            k = settings.K,
            radius = settings.Radius,
            queries = queries.Count,
            build_codes_per_s = Math.Round(codes.Count / buildSeconds),
            table_bytes_per_code = Math.Round((double)tableBytes / Math.Max(1, codes.Count), 1),
            mih_mean_ms = Math.Round(mihMean, 4),
            mih_p50_ms = Math.Round(mihMs[mihMs.Length / 2], 4),
            scan_mean_ms = Math.Round(scanMean, 4),
            speedup_mean = Math.Round(scanMean / mihMean, 2),
            results,
            mismatches,
        }));
        if (mismatches > 0)
        {
            stderr.WriteLine($"hdb bench mih: {mismatches} queries answered differently by MIH and the scan");
            return ExitCodes.InternalError;
        }
        return ExitCodes.Ok;
    }
}
