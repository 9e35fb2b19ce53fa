using System.Diagnostics;
using System.Text.Json;
using HammingDB.Index.Mih;
using HammingDB.Kernels;

namespace HammingDB.Cli;

/// <summary>What <c>hdb bench mih</c> runs; <see cref="FilterWords"/> is off, on or both.</summary>
internal sealed record MihBenchmarkSettings(string CodesPath, string QueriesPath, int? K, int? Radius, int? Substrings, long QueryLimit, string FilterWords = "off");

/// <summary>
/// The in-memory multi-index hashing tables against the exhaustive scan on the same codes: table
/// build (codes/s), memory beyond the codes (bytes per code), and per query MIH and scan time,
/// alternating, with the answers compared. With filter words "both", two indexes (without and with
/// filter words) are timed on each query, the one that goes first alternating from query to query,
/// and reported side by side (the filter-word one under "filter_on"). One JSON line per run.
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
        bool[] variants = settings.FilterWords switch
        {
            "on" => [true],
            "both" => [false, true],
            _ => [false],
        };
        stderr.WriteLine($"hdb bench mih: {codes.Count} codes of {codes.Layout.CodeBits} bits, {layout.Count} substrings, building (filter words {settings.FilterWords})");
        var clock = Stopwatch.StartNew();
        var indexes = new MihIndex[variants.Length];
        var buildSeconds = new double[variants.Length];
        for (int v = 0; v < variants.Length; v++)
        {
            clock.Restart();
            indexes[v] = new MihIndex(codes.Block, layout, variants[v]);
            buildSeconds[v] = clock.Elapsed.TotalSeconds;
        }

        var scanOptions = new SearchOptions { Threads = 1 };
        bool knn = settings.K is not null;
        Neighbor[] Mih(int v, int q) => knn ? indexes[v].Knn(queries[q], settings.K!.Value) : indexes[v].Radius(queries[q], settings.Radius!.Value);
        Neighbor[] Scan(int q) => knn ? ExhaustiveSearch.Knn(codes, queries[q], settings.K!.Value, scanOptions) : ExhaustiveSearch.Radius(codes, queries[q], settings.Radius!.Value, scanOptions);
        for (int q = 0; q < Math.Min(queries.Count, 20); q++)
        {
            for (int v = 0; v < variants.Length; v++)
            {
                Mih(v, q);
            }
            Scan(q);
        }
        var mihMs = new double[variants.Length][];
        var mismatches = new int[variants.Length];
        for (int v = 0; v < variants.Length; v++)
        {
            mihMs[v] = new double[queries.Count];
        }
        var scanMs = new double[queries.Count];
        long results = 0;
        for (int q = 0; q < queries.Count; q++)
        {
            var found = new Neighbor[variants.Length][];
            for (int i = 0; i < variants.Length; i++)
            {
                int v = (q + i) % variants.Length; // which variant goes first alternates
                clock.Restart();
                found[v] = Mih(v, q);
                mihMs[v][q] = clock.Elapsed.TotalMilliseconds;
            }
            clock.Restart();
            Neighbor[] fromScan = Scan(q);
            scanMs[q] = clock.Elapsed.TotalMilliseconds;
            results += found[0].Length;
            for (int v = 0; v < variants.Length; v++)
            {
                mismatches[v] += found[v].AsSpan().SequenceEqual(fromScan) ? 0 : 1;
            }
        }
        double scanMean = scanMs.Average();
        var means = mihMs.Select(t => t.Average()).ToArray();
        foreach (double[] times in mihMs)
        {
            Array.Sort(times);
        }
        Array.Sort(scanMs);
        object? filterOn = variants.Length == 2
            ? new
            {
                build_codes_per_s = Math.Round(codes.Count / buildSeconds[1]),
                table_bytes_per_code = Math.Round((double)indexes[1].Bytes / Math.Max(1, codes.Count), 1),
                mih_mean_ms = Math.Round(means[1], 4),
                mih_p50_ms = Math.Round(mihMs[1][mihMs[1].Length / 2], 4),
                speedup_mean = Math.Round(scanMean / means[1], 2),
                on_over_off_mean = Math.Round(means[1] / means[0], 3),
                mismatches = mismatches[1],
            }
            : null;
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
            filter_words = variants.Length == 2 ? "off (filter_on: on)" : variants[0] ? "on" : "off",
            build_codes_per_s = Math.Round(codes.Count / buildSeconds[0]),
            table_bytes_per_code = Math.Round((double)indexes[0].Bytes / Math.Max(1, codes.Count), 1),
            mih_mean_ms = Math.Round(means[0], 4),
            mih_p50_ms = Math.Round(mihMs[0][mihMs[0].Length / 2], 4),
            scan_mean_ms = Math.Round(scanMean, 4),
            speedup_mean = Math.Round(scanMean / means[0], 2),
            results,
            mismatches = mismatches[0],
            filter_on = filterOn,
        }));
        int total = mismatches.Sum();
        if (total > 0)
        {
            stderr.WriteLine($"hdb bench mih: {total} query answers differed between MIH and the scan");
            return ExitCodes.InternalError;
        }
        return ExitCodes.Ok;
    }
}
