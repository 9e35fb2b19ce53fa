using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using HammingDB.Kernels;

namespace HammingDB.Cli;

/// <summary>What <c>hdb bench scan</c> runs: exact exhaustive kNN or radius search over an .hdbc file.</summary>
internal sealed record ScanBenchmarkSettings(
    string CodesPath,
    string QueriesPath,
    int? K,
    int? Radius,
    int Threads,
    bool Batch,
    IsaLevel? Isa,
    long QueryLimit,
    int TileBytes,
    string? ResultsPath);

/// <summary>Runs one scan benchmark and reports it as one JSON line.</summary>
internal static class ScanBenchmark
{
    public static int Run(ScanBenchmarkSettings settings, TextWriter stdout, TextWriter stderr)
    {
        IsaLevel isa = Kernels.Isa.Resolve(settings.Isa);
        stderr.WriteLine($"hdb bench scan: loading {settings.CodesPath}");
        PackedCodes codes = HdbcFile.Read(settings.CodesPath);
        PackedCodes queries = HdbcFile.Read(settings.QueriesPath, settings.QueryLimit);
        if (queries.Layout != codes.Layout)
        {
            throw new InputException(
                $"{settings.QueriesPath}: the queries are {queries.Layout.CodeBits}-bit codes but {settings.CodesPath} holds {codes.Layout.CodeBits}-bit codes.");
        }
        if (queries.Count == 0)
        {
            throw new InputException($"{settings.QueriesPath}: holds no queries.");
        }
        var options = new SearchOptions { Isa = isa, Threads = settings.Threads, TileBytes = settings.TileBytes };
        bool knn = settings.K is not null;
        stderr.WriteLine($"hdb bench scan: {codes.Count} codes of {codes.Layout.CodeBits} bits, {queries.Count} queries, " +
                         $"{(knn ? $"k={settings.K}" : $"radius={settings.Radius}")}, {(settings.Batch ? "batch" : "single")}, {settings.Threads} thread(s), {Kernels.Isa.Format(isa)}");

        // Warm-up: one query over everything, untimed (page faults, JIT, thread pool start).
        Search(codes, queries, 0, knn, settings, options);

        var results = new Neighbor[queries.Count][];
        var latencies = new double[queries.Count];
        var total = Stopwatch.StartNew();
        if (settings.Batch)
        {
            results = knn
                ? ExhaustiveSearch.KnnBatch(codes, queries, settings.K!.Value, options)
                : ExhaustiveSearch.RadiusBatch(codes, queries, settings.Radius!.Value, options);
        }
        else
        {
            for (int j = 0; j < queries.Count; j++)
            {
                long start = Stopwatch.GetTimestamp();
                results[j] = Search(codes, queries, j, knn, settings, options);
                latencies[j] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }
        total.Stop();

        double wallSeconds = total.Elapsed.TotalSeconds;
        var summary = Summarize(results);
        var line = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(line))
        {
            json.WriteStartObject();
            json.WriteString("bench", "scan");
            json.WriteString("workload", Path.GetFileName(settings.CodesPath));
            json.WriteString("queries_file", Path.GetFileName(settings.QueriesPath));
            json.WriteNumber("bits", codes.Layout.CodeBits);
            json.WriteNumber("codes", codes.Count);
            json.WriteNumber("queries", queries.Count);
            json.WriteString("mode", settings.Batch ? "batch" : "single");
            json.WriteNumber("threads", settings.Threads);
            json.WriteString("isa", Kernels.Isa.Format(isa));
            json.WriteString("op", knn ? "knn" : "radius");
            json.WriteNumber(knn ? "k" : "radius", knn ? settings.K!.Value : settings.Radius!.Value);
            json.WriteNumber("codes_per_s", Math.Round((double)codes.Count * queries.Count / wallSeconds));
            json.WriteNumber("queries_per_s", Math.Round(queries.Count / wallSeconds, 1));
            json.WriteNumber("mean_ms", Math.Round(wallSeconds * 1000 / queries.Count, 4));
            if (settings.Batch)
            {
                json.WriteNull("p50_ms");
                json.WriteNull("p99_ms");
            }
            else
            {
                Array.Sort(latencies);
                json.WriteNumber("p50_ms", Math.Round(latencies[latencies.Length / 2], 4));
                json.WriteNumber("p99_ms", Math.Round(latencies[(int)(latencies.Length * 0.99)], 4));
            }
            json.WriteNumber("wall_s", Math.Round(wallSeconds, 4));
            json.WriteNumber("checksum", knn ? summary.DistanceSum : summary.Rows);
            json.WriteNumber("total_results", summary.Rows);
            json.WriteString("results_hash", summary.Hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }
        stdout.WriteLine(Encoding.UTF8.GetString(line.WrittenSpan));
        stdout.Flush();
        if (settings.ResultsPath is { } resultsPath)
        {
            WriteResults(resultsPath, results, knn);
        }
        GC.KeepAlive(codes);
        GC.KeepAlive(queries);
        return ExitCodes.Ok;
    }

    private static Neighbor[] Search(PackedCodes codes, PackedCodes queries, int j, bool knn, ScanBenchmarkSettings settings, SearchOptions options) =>
        knn
            ? ExhaustiveSearch.Knn(codes, queries[j], settings.K!.Value, options)
            : ExhaustiveSearch.Radius(codes, queries[j], settings.Radius!.Value, options);

    /// <summary>
    /// checksum: the sum of all kNN distances (as ../shared/bench/peers/scan.c prints it) or the
    /// number of radius results; hash: FNV-1a over every (query, id, distance) in order.
    /// </summary>
    internal static (long DistanceSum, long Rows, ulong Hash) Summarize(Neighbor[][] results)
    {
        long distanceSum = 0, rows = 0;
        ulong hash = 14695981039346656037UL;
        for (int j = 0; j < results.Length; j++)
        {
            foreach (Neighbor n in results[j])
            {
                distanceSum += n.Distance;
                rows++;
                hash = (hash ^ (ulong)j) * 1099511628211UL;
                hash = (hash ^ (ulong)n.Id) * 1099511628211UL;
                hash = (hash ^ (ulong)n.Distance) * 1099511628211UL;
            }
        }
        return (distanceSum, rows, hash);
    }

    /// <summary>Per query "kth-distance count" (kNN) or "0 count" (radius): the cross-check file of scan.c.</summary>
    private static void WriteResults(string path, Neighbor[][] results, bool knn)
    {
        using var writer = new StreamWriter(path);
        foreach (Neighbor[] r in results)
        {
            int kth = knn && r.Length > 0 ? r[^1].Distance : 0;
            writer.Write(kth.ToString(System.Globalization.CultureInfo.InvariantCulture));
            writer.Write(' ');
            writer.WriteLine(r.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
