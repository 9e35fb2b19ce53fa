using System.Diagnostics;
using System.Text.Json;
using HammingDB.Kernels;

namespace HammingDB.Cli;

/// <summary>What <c>hdb bench engine</c> runs.</summary>
internal sealed record EngineBenchmarkSettings(
    string CodesPath,
    string QueriesPath,
    string DatabasePath,
    int K,
    int BatchRows,
    int SealRows,
    int Reopens,
    long QueryLimit);

/// <summary>
/// The engine's figures on one workload, each printed as one JSON line: durable ingest (rows/s,
/// batches through the public API, each acknowledged only once fsynced), reopen to the first
/// answered query, compaction (rows/s), and kNN on the database against the in-memory exhaustive
/// scan of the same codes (same queries, alternating, same run).
/// </summary>
internal static class EngineBenchmark
{
    public static int Run(EngineBenchmarkSettings settings, TextWriter stdout, TextWriter stderr)
    {
        PackedCodes codes = HdbcFile.Read(settings.CodesPath);
        PackedCodes queries = HdbcFile.Read(settings.QueriesPath, settings.QueryLimit);
        if (queries.Layout != codes.Layout)
        {
            throw new InputException($"{settings.QueriesPath}: the queries are {queries.Layout.CodeBits}-bit codes but {settings.CodesPath} holds {codes.Layout.CodeBits}-bit codes.");
        }
        if (Directory.Exists(settings.DatabasePath) && Directory.EnumerateFileSystemEntries(settings.DatabasePath).Any())
        {
            throw new InputException($"{settings.DatabasePath}: the benchmark needs an empty or new directory; it holds files.");
        }
        string workload = Path.GetFileNameWithoutExtension(settings.CodesPath);
        var options = new DatabaseOptions { SealRows = settings.SealRows, BackgroundCompaction = false };

        // 1. Durable ingest, key = row index.
        stderr.WriteLine($"hdb bench engine: ingesting {codes.Count} codes of {codes.Layout.CodeBits} bits");
        var clock = Stopwatch.StartNew();
        int segments;
        using (HammingDatabase db = HammingDatabase.Open(settings.DatabasePath, options))
        {
            HammingCollection<ulong> items = db.CreateCollection<ulong>("default", new CollectionOptions { CodeBits = codes.Layout.CodeBits });
            for (int first = 0; first < codes.Count; first += settings.BatchRows)
            {
                CollectionBatch<ulong> batch = items.NewBatch();
                int end = Math.Min(codes.Count, first + settings.BatchRows);
                for (int row = first; row < end; row++)
                {
                    batch.Upsert((ulong)row, codes[row]);
                }
                items.Apply(batch);
            }
            double ingestSeconds = clock.Elapsed.TotalSeconds;
            segments = items.GetStats().Segments;
            Print(stdout, new { bench = "ingest", workload, rows = codes.Count, batch_rows = settings.BatchRows, seal_rows = settings.SealRows,
                seconds = Math.Round(ingestSeconds, 3), rows_per_s = Math.Round(codes.Count / ingestSeconds), segments });

            // 2. Compaction of the sealed segments into one.
            db.Flush();
            segments = items.GetStats().Segments;
            clock.Restart();
            db.Compact();
            double compactSeconds = clock.Elapsed.TotalSeconds;
            Print(stdout, new { bench = "compact", workload, rows = codes.Count, segments_before = segments,
                seconds = Math.Round(compactSeconds, 3), rows_per_s = Math.Round(codes.Count / compactSeconds) });
        }

        // 3. Reopen to the first answered query (the close above sealed everything).
        var reopenMs = new List<double>();
        for (int i = 0; i < settings.Reopens; i++)
        {
            clock.Restart();
            using HammingDatabase db = HammingDatabase.Open(settings.DatabasePath, options);
            db.GetCollection<ulong>("default").Knn(queries[i % queries.Count], settings.K);
            reopenMs.Add(clock.Elapsed.TotalMilliseconds);
        }
        reopenMs.Sort();
        Print(stdout, new { bench = "reopen", workload, rows = codes.Count, runs = reopenMs.Count,
            median_ms = Math.Round(reopenMs[reopenMs.Count / 2], 2), min_ms = Math.Round(reopenMs[0], 2), max_ms = Math.Round(reopenMs[^1], 2) });

        // 4. kNN on the database against the in-memory scan, query by query, alternating.
        using (HammingDatabase db = HammingDatabase.Open(settings.DatabasePath, options))
        {
            HammingCollection<ulong> items = db.GetCollection<ulong>("default");
            // Steady state: a lookup by key waits for the key index, which a clean open loads in the
            // background (on 2 cores that load would otherwise share the queries' time).
            items.TryGet(0, out _);
            var scanOptions = new SearchOptions { Threads = 1 };
            // Warm-up, untimed: every query once on each side (page cache, decoded key blocks, JIT).
            for (int q = 0; q < queries.Count; q++)
            {
                items.Knn(queries[q], settings.K);
                ExhaustiveSearch.Knn(codes, queries[q], settings.K, scanOptions);
            }
            var dbMs = new double[queries.Count];
            var scanMs = new double[queries.Count];
            int mismatches = 0;
            for (int q = 0; q < queries.Count; q++)
            {
                clock.Restart();
                IReadOnlyList<SearchResult<ulong>> found = items.Knn(queries[q], settings.K);
                dbMs[q] = clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                Neighbor[] expected = ExhaustiveSearch.Knn(codes, queries[q], settings.K, scanOptions);
                scanMs[q] = clock.Elapsed.TotalMilliseconds;
                // Keys are row indexes, so both answers order ties the same way.
                if (!found.Select(r => ((long)r.Key, r.Distance)).SequenceEqual(expected.Select(n => (n.Id, n.Distance))))
                {
                    mismatches++;
                }
            }
            double dbMean = dbMs.Average();
            double scanMean = scanMs.Average();
            Array.Sort(dbMs);
            Array.Sort(scanMs);
            Print(stdout, new { bench = "query", workload, rows = codes.Count, queries = queries.Count, k = settings.K,
                db_mean_ms = Math.Round(dbMean, 4), scan_mean_ms = Math.Round(scanMean, 4), ratio = Math.Round(dbMean / scanMean, 3),
                db_p50_ms = Math.Round(dbMs[dbMs.Length / 2], 4), scan_p50_ms = Math.Round(scanMs[scanMs.Length / 2], 4),
                ratio_p50 = Math.Round(dbMs[dbMs.Length / 2] / scanMs[scanMs.Length / 2], 3), mismatches });
            if (mismatches > 0)
            {
                stderr.WriteLine($"hdb bench engine: {mismatches} queries answered differently by the database and the scan");
                return ExitCodes.InternalError;
            }
        }
        return ExitCodes.Ok;
    }

    private static void Print(TextWriter stdout, object line)
    {
        stdout.WriteLine(JsonSerializer.Serialize(line));
        stdout.Flush();
    }
}
