using System.Diagnostics;
using System.Text.Json;
using HammingDB.Index.Mih;
using HammingDB.Kernels;

namespace HammingDB.Cli;

/// <summary>What <c>hdb bench mih</c> runs; <see cref="FilterWords"/> is off, on or both; <see cref="Thresholds"/> adaptive, pigeonhole or both (not both with filter words both).</summary>
internal sealed record MihBenchmarkSettings(string CodesPath, string QueriesPath, int? K, int? Radius, int? Substrings, long QueryLimit, string FilterWords = "off",
    string Thresholds = "pigeonhole");

/// <summary>
/// The in-memory multi-index hashing tables against the exhaustive scan on the same codes: table
/// build (codes/s), memory beyond the codes (bytes per code), and per query MIH and scan time,
/// alternating, with the answers compared. With filter words "both" (two indexes, without and with
/// filter words) or thresholds "both" (one index searched with adaptive and with pigeonhole radius
/// thresholds), the two variants are timed on each query, the one that goes first alternating from
/// query to query, and reported side by side (the second under "second"). One JSON line per run.
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
        MihThresholds[] thresholdVariants = [.. (settings.Thresholds == "both" ? "adaptive,pigeonhole" : settings.Thresholds).Split(',')
            .Select(name => Enum.Parse<MihThresholds>(name, ignoreCase: true))];
        if (settings.FilterWords == "both" && thresholdVariants.Length > 1)
        {
            throw new InputException("--filter-words both and --thresholds both cannot be combined: compare one thing at a time.");
        }
        bool[] filterVariants = settings.FilterWords switch
        {
            "on" => [true],
            "both" => [false, true],
            _ => [false],
        };
        int variantCount = Math.Max(filterVariants.Length, thresholdVariants.Length);
        stderr.WriteLine($"hdb bench mih: {codes.Count} codes of {codes.Layout.CodeBits} bits, {layout.Count} substrings, building (filter words {settings.FilterWords}, thresholds {settings.Thresholds})");
        var clock = Stopwatch.StartNew();
        var indexes = new MihIndex[variantCount];
        var buildSeconds = new double[variantCount];
        var names = new string[variantCount];
        for (int v = 0; v < variantCount; v++)
        {
            bool filterWords = filterVariants[Math.Min(v, filterVariants.Length - 1)];
            MihThresholds thresholds = thresholdVariants[Math.Min(v, thresholdVariants.Length - 1)];
            clock.Restart();
            indexes[v] = v > 0 && filterWords == filterVariants[0]
                ? new MihIndex(codes.Block, indexes[0].Tables) // the same tables, searched another way
                : new MihIndex(codes.Block, layout, filterWords);
            buildSeconds[v] = v > 0 && filterWords == filterVariants[0] ? buildSeconds[0] : clock.Elapsed.TotalSeconds;
            indexes[v].Thresholds = thresholds;
            names[v] = $"filter words {(filterWords ? "on" : "off")}, {thresholds.ToString().ToLowerInvariant()} thresholds";
        }

        var scanOptions = new SearchOptions { Threads = 1 };
        bool knn = settings.K is not null;
        var probes = new long[variantCount];
        var postings = new long[variantCount];
        Neighbor[] Mih(int v, int q)
        {
            var counters = default(MihCounters);
            Neighbor[] found;
            if (knn)
            {
                var governor = default(UnlimitedKnn);
                found = indexes[v].Knn(queries[q], settings.K!.Value, default(KeepAllRows), int.MaxValue, ref governor, ref counters).Neighbors;
            }
            else
            {
                var sink = new ListSink(new List<Neighbor>());
                indexes[v].Radius(queries[q], settings.Radius!.Value, ref sink, ref counters);
                sink.Rows.Sort();
                found = [.. sink.Rows];
            }
            probes[v] += counters.Probes;
            postings[v] += counters.Postings;
            return found;
        }

        Neighbor[] Scan(int q) => knn ? ExhaustiveSearch.Knn(codes, queries[q], settings.K!.Value, scanOptions) : ExhaustiveSearch.Radius(codes, queries[q], settings.Radius!.Value, scanOptions);
        for (int q = 0; q < Math.Min(queries.Count, 20); q++)
        {
            for (int v = 0; v < variantCount; v++)
            {
                Mih(v, q);
            }
            Scan(q);
        }
        var mihMs = new double[variantCount][];
        var mismatches = new int[variantCount];
        for (int v = 0; v < variantCount; v++)
        {
            mihMs[v] = new double[queries.Count];
        }
        Array.Clear(probes);
        Array.Clear(postings);
        var scanMs = new double[queries.Count];
        long results = 0;
        for (int q = 0; q < queries.Count; q++)
        {
            var found = new Neighbor[variantCount][];
            for (int i = 0; i < variantCount; i++)
            {
                int v = (q + i) % variantCount; // which variant goes first alternates
                clock.Restart();
                found[v] = Mih(v, q);
                mihMs[v][q] = clock.Elapsed.TotalMilliseconds;
            }
            clock.Restart();
            Neighbor[] fromScan = Scan(q);
            scanMs[q] = clock.Elapsed.TotalMilliseconds;
            results += found[0].Length;
            for (int v = 0; v < variantCount; v++)
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
        object? second = variantCount == 2
            ? new
            {
                variant = names[1],
                build_codes_per_s = Math.Round(codes.Count / buildSeconds[1]),
                table_bytes_per_code = Math.Round((double)indexes[1].Bytes / Math.Max(1, codes.Count), 1),
                mih_mean_ms = Math.Round(means[1], 4),
                mih_p50_ms = Math.Round(mihMs[1][mihMs[1].Length / 2], 4),
                speedup_mean = Math.Round(scanMean / means[1], 2),
                second_over_first_mean = Math.Round(means[1] / means[0], 3),
                mean_probes = Math.Round((double)probes[1] / queries.Count, 1),
                mean_postings = Math.Round((double)postings[1] / queries.Count, 1),
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
            variant = names[0],
            build_codes_per_s = Math.Round(codes.Count / buildSeconds[0]),
            table_bytes_per_code = Math.Round((double)indexes[0].Bytes / Math.Max(1, codes.Count), 1),
            mih_mean_ms = Math.Round(means[0], 4),
            mih_p50_ms = Math.Round(mihMs[0][mihMs[0].Length / 2], 4),
            mean_probes = Math.Round((double)probes[0] / queries.Count, 1),
            mean_postings = Math.Round((double)postings[0] / queries.Count, 1),
            scan_mean_ms = Math.Round(scanMean, 4),
            speedup_mean = Math.Round(scanMean / means[0], 2),
            results,
            mismatches = mismatches[0],
            second,
        }));
        int total = mismatches.Sum();
        if (total > 0)
        {
            stderr.WriteLine($"hdb bench mih: {total} query answers differed between MIH and the scan");
            return ExitCodes.InternalError;
        }
        return ExitCodes.Ok;
    }

    private readonly struct ListSink(List<Neighbor> rows) : IMihRadiusSink
    {
        public List<Neighbor> Rows { get; } = rows;

        public void Accept(int row, int distance) => Rows.Add(new Neighbor(row, distance));
    }
}
