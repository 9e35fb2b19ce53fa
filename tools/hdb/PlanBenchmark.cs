using System.Diagnostics;
using System.Text.Json;
using HammingDB.Kernels;

namespace HammingDB.Cli;

/// <summary>What <c>hdb bench plan</c> runs.</summary>
internal sealed record PlanBenchmarkSettings(string CodesPath, string QueriesPath, string DatabasePath, IReadOnlyList<int> Radii, IReadOnlyList<int> Ks,
    long QueryLimit, double SecondsPerPoint, double SkipMihOver = 20);

/// <summary>
/// The planner on a database: for each radius (and k), the same queries under the forced MIH plan,
/// the forced scan and auto, rotated query by query, with the answers compared. One JSON line per
/// point: mean ms per plan, the faster forced plan, and auto over it. The database (key = row index,
/// compacted to one segment) is built on the first run and reused after.
/// </summary>
internal static class PlanBenchmark
{
    private static readonly QueryPlan[] Plans = [QueryPlan.Mih, QueryPlan.Scan, QueryPlan.Auto];

    public static int Run(PlanBenchmarkSettings settings, TextWriter stdout, TextWriter stderr)
    {
        PackedCodes codes = HdbcFile.Read(settings.CodesPath);
        PackedCodes queries = HdbcFile.Read(settings.QueriesPath, settings.QueryLimit);
        if (queries.Layout != codes.Layout)
        {
            throw new InputException($"{settings.QueriesPath}: the queries are {queries.Layout.CodeBits}-bit codes but {settings.CodesPath} holds {codes.Layout.CodeBits}-bit codes.");
        }
        string workload = Path.GetFileNameWithoutExtension(settings.CodesPath);
        var options = new DatabaseOptions { BackgroundCompaction = false };
        bool exists = Directory.Exists(settings.DatabasePath) && Directory.EnumerateFileSystemEntries(settings.DatabasePath).Any();
        using HammingDatabase db = HammingDatabase.Open(settings.DatabasePath, options);
        HammingCollection<ulong> items;
        if (!exists)
        {
            stderr.WriteLine($"hdb bench plan: building {settings.DatabasePath} from {codes.Count} codes (one compacted segment)");
            items = db.CreateCollection<ulong>("default", new CollectionOptions { CodeBits = codes.Layout.CodeBits });
            for (int first = 0; first < codes.Count; first += 1 << 17)
            {
                CollectionBatch<ulong> batch = items.NewBatch();
                for (int row = first; row < Math.Min(codes.Count, first + (1 << 17)); row++)
                {
                    batch.Upsert((ulong)row, codes[row]);
                }
                items.Apply(batch);
            }
            db.Flush();
            db.Compact();
        }
        else
        {
            items = db.GetCollection<ulong>("default");
        }
        if (items.Count != codes.Count || items.Layout != codes.Layout)
        {
            throw new InputException($"{settings.DatabasePath}: its collection holds {items.Count} codes of {items.Layout.CodeBits} bits, not the {codes.Count} of {settings.CodesPath}.");
        }
        items.TryGet(0, out _); // the key index is loaded
        string costModel = WaitForCalibration(items, queries[0].ToArray(), stderr);
        CollectionStats stats = items.GetStats();
        stderr.WriteLine($"hdb bench plan: {stats.Segments} segment(s), cost model: {costModel}");

        // Every search path compiled to its final tier before anything is timed.
        for (int i = 0; i < 60; i++)
        {
            foreach (QueryPlan plan in Plans)
            {
                items.Radius(queries[i % queries.Count], 2, plan);
                items.Knn(queries[i % queries.Count], 10, plan);
            }
        }
        Thread.Sleep(500);

        ReadOnlyMemory<ulong>[] all = [.. Enumerable.Range(0, queries.Count).Select(q => new ReadOnlyMemory<ulong>(queries[q].ToArray()))];
        bool mihTooSlow = false;
        foreach (int radius in settings.Radii)
        {
            PointResult point = Point(stdout, settings, workload, codes, queries, () => items.ExplainRadius(queries[0], 0, QueryPlan.Mih).CostModel, "radius", radius, mihTooSlow,
                (q, plan) => items.Radius(queries[q], radius, plan));
            mihTooSlow |= point.MihTooSlow; // once too slow, it stays skipped at the larger radii that follow
            BatchPoint(stdout, workload, "radius", radius, point, (n, plan) => items.RadiusBatch(all[..n], radius, threads: 1, plan));
        }
        foreach (int k in settings.Ks)
        {
            PointResult point = Point(stdout, settings, workload, codes, queries, () => items.ExplainKnn(queries[0], 1, QueryPlan.Mih).CostModel, "knn", k, false, (q, plan) => items.Knn(queries[q], k, plan));
            BatchPoint(stdout, workload, "knn", k, point, (n, plan) => items.KnnBatch(all[..n], k, threads: 1, plan));
        }
        return ExitCodes.Ok;
    }

    // The calibration starts with the first search that sees tables; wait for it (at most a minute).
    private static string WaitForCalibration(HammingCollection<ulong> items, ReadOnlySpan<ulong> query, TextWriter stderr)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            string model = items.ExplainRadius(query, 0, QueryPlan.Mih).CostModel;
            if (!model.StartsWith("defaults", StringComparison.Ordinal) || clock.Elapsed > TimeSpan.FromMinutes(1))
            {
                return model;
            }
            Thread.Sleep(50);
        }
    }

    // One point: every plan over the same queries, plan by plan (a query's buckets are cold for each plan,
    // as a new query's are; running the plans of one query back to back would warm them for the later ones),
    // in rounds of alternating order against drift, each pass after an untimed scan (the same caches for all). Returns whether forced MIH passed --skip-mih-over times the scan
    // (it then is skipped at larger radii, where it only gets slower).
    private static PointResult Point(TextWriter stdout, PlanBenchmarkSettings settings, string workload, PackedCodes codes, PackedCodes queries, Func<string> costModel,
        string op, int parameter, bool skipMih, Func<int, QueryPlan, IReadOnlyList<SearchResult<ulong>>> search)
    {
        QueryPlan[] plans = skipMih ? [QueryPlan.Scan, QueryPlan.Auto] : Plans;
        var totals = new double[Plans.Length];
        // Each query's fastest time under each plan over the rounds: one stall then does not move a point.
        var fastest = new double[Plans.Length, queries.Count];
        for (int p = 0; p < Plans.Length; p++)
        {
            for (int q = 0; q < queries.Count; q++)
            {
                fastest[p, q] = double.MaxValue;
            }
        }
        int mismatches = 0;
        long results = 0;
        for (int q = 0; q < Math.Min(3, queries.Count); q++)
        {
            foreach (QueryPlan plan in plans)
            {
                search(q, plan); // warm-up
            }
        }
        // An untimed pass first: the key blocks holding this point's results are decoded and cached (as in a
        // database that has run a while), so no plan pays for them. It also sets the query count: all
        // queries, or as many as fit in a sixth of the time per point (at least 3).
        int done = queries.Count;
        var warm = Stopwatch.StartNew();
        for (int q = 0; q < done; q++)
        {
            search(q, QueryPlan.Auto);
            if (q + 1 >= 3 && warm.Elapsed.TotalSeconds > settings.SecondsPerPoint / 6)
            {
                done = q + 1;
            }
        }
        var answers = new IReadOnlyList<SearchResult<ulong>>[queries.Count];
        // Rounds alternate the order of the plans. Each plan runs at least 2 passes, and more (up to 20) while
        // its share of the point's time lasts: points where MIH takes microseconds and the scan milliseconds time
        // MIH and auto over many passes (two passes each let one slow moment of the machine move them 1.5x).
        var rounds = new int[Plans.Length];
        bool MorePasses(QueryPlan plan)
        {
            int p = Array.IndexOf(Plans, plan);
            return rounds[p] < 2 || (rounds[p] < 20 && totals[p] < settings.SecondsPerPoint * 1000 / plans.Length);
        }
        for (int round = 0; plans.Any(MorePasses); round++)
        {
            for (int i = 0; i < plans.Length; i++)
            {
                QueryPlan plan = plans[round % 2 == 0 ? i : plans.Length - 1 - i];
                if (!MorePasses(plan))
                {
                    continue;
                }
                rounds[Array.IndexOf(Plans, plan)]++;
                search(0, QueryPlan.Scan); // every pass starts from the caches a scan leaves
                for (int q = 0; q < done; q++)
                {
                    long started = Stopwatch.GetTimestamp();
                    IReadOnlyList<SearchResult<ulong>> found = search(q, plan);
                    double ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    int p = Array.IndexOf(Plans, plan);
                    totals[p] += ms;
                    fastest[p, q] = Math.Min(fastest[p, q], ms);
                    if (answers[q] is null)
                    {
                        answers[q] = found;
                        results += found.Count;
                    }
                    else if (!answers[q].SequenceEqual(found))
                    {
                        mismatches++;
                    }
                }
            }
        }
        double? mih = skipMih ? null : totals[0] / (rounds[0] * done);
        double scan = totals[1] / (rounds[1] * done);
        double auto = totals[2] / (rounds[2] * done);
        double best = Math.Min(mih ?? double.MaxValue, scan);
        double FastestSum(int p) => Enumerable.Range(0, done).Sum(q => fastest[p, q]);
        double? mihFastest = skipMih ? null : FastestSum(0) / done;
        double scanFastest = FastestSum(1) / done;
        double autoFastest = FastestSum(2) / done;
        stdout.WriteLine(JsonSerializer.Serialize(new
        {
            bench = "plan",
            workload,
            bits = codes.Layout.CodeBits,
            rows = codes.Count,
            op,
            k = op == "knn" ? parameter : (int?)null,
            radius = op == "radius" ? parameter : (int?)null,
            queries = done,
            rounds = rounds.Max(),
            rounds_mih_scan_auto = rounds,
            mih_ms = mih is null ? (double?)null : Math.Round(mih.Value, 4),
            scan_ms = Math.Round(scan, 4),
            auto_ms = Math.Round(auto, 4),
            faster_forced = mih is not null && mih < scan ? "mih" : "scan",
            auto_over_faster = Math.Round(auto / best, 3),
            // The same from each query's fastest time over the rounds (less sensitive to stalls).
            mih_fastest_ms = mihFastest is null ? (double?)null : Math.Round(mihFastest.Value, 4),
            scan_fastest_ms = Math.Round(scanFastest, 4),
            auto_fastest_ms = Math.Round(autoFastest, 4),
            auto_over_faster_fastest = Math.Round(autoFastest / Math.Min(mihFastest ?? double.MaxValue, scanFastest), 3),
            results_per_query = Math.Round((double)results / done, 1),
            mismatches,
            cost_model = costModel(), // as the point's searches left it (corrected by their times)
        }));
        stdout.Flush();
        if (mismatches > 0)
        {
            throw new InvalidOperationException($"{op} {parameter}: {mismatches} answers differ between plans");
        }
        return new PointResult(mih is not null && mih > settings.SkipMihOver * scan, done, answers, mih, scan, auto);
    }

    private sealed record PointResult(bool MihTooSlow, int Queries, IReadOnlyList<SearchResult<ulong>>[] Answers, double? MihMs, double ScanMs, double AutoMs);

    // The point's queries as one batch on one thread, per plan (best of 2 runs, each after an untimed
    // scan), beside the one-by-one means of the same run: what scanning queued queries together saves.
    private static void BatchPoint(TextWriter stdout, string workload, string op, int parameter, PointResult point,
        Func<int, QueryPlan, IReadOnlyList<IReadOnlyList<SearchResult<ulong>>>> batch)
    {
        var perQuery = new Dictionary<QueryPlan, double>();
        foreach (QueryPlan plan in point.MihMs is null ? [QueryPlan.Scan, QueryPlan.Auto] : Plans)
        {
            double best = double.MaxValue;
            for (int run = 0; run < 2; run++)
            {
                batch(1, QueryPlan.Scan);
                long started = Stopwatch.GetTimestamp();
                IReadOnlyList<IReadOnlyList<SearchResult<ulong>>> found = batch(point.Queries, plan);
                best = Math.Min(best, Stopwatch.GetElapsedTime(started).TotalMilliseconds / point.Queries);
                for (int q = 0; q < point.Queries; q++)
                {
                    if (!found[q].SequenceEqual(point.Answers[q]))
                    {
                        throw new InvalidOperationException($"{op} {parameter}: the batch answer to query {q} under {plan} differs from the single query's");
                    }
                }
            }
            perQuery[plan] = best;
        }
        stdout.WriteLine(JsonSerializer.Serialize(new
        {
            bench = "plan-batch",
            workload,
            op,
            k = op == "knn" ? parameter : (int?)null,
            radius = op == "radius" ? parameter : (int?)null,
            queries = point.Queries,
            threads = 1,
            single_mih_ms = point.MihMs is null ? (double?)null : Math.Round(point.MihMs.Value, 4),
            batch_mih_ms = perQuery.TryGetValue(QueryPlan.Mih, out double m) ? Math.Round(m, 4) : (double?)null,
            single_scan_ms = Math.Round(point.ScanMs, 4),
            batch_scan_ms = Math.Round(perQuery[QueryPlan.Scan], 4),
            single_auto_ms = Math.Round(point.AutoMs, 4),
            batch_auto_ms = Math.Round(perQuery[QueryPlan.Auto], 4),
            scan_batch_speedup = Math.Round(point.ScanMs / perQuery[QueryPlan.Scan], 2),
        }));
        stdout.Flush();
    }
}
