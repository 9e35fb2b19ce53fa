using System.Diagnostics;
using System.Globalization;
using HammingDB.Storage;
using Xunit.Abstractions;

namespace HammingDB.Tests.Faults;

/// <summary>
/// Every named kill point in the write path (<see cref="KillPoints.All"/>) is hit by a SIGKILL: an
/// <c>hdb</c> child running the workload (<see cref="KillWorkload"/>: ingest with seals and background
/// compaction, delete, compact, train) is armed at one point and one hit count and dies there; then the
/// database opens with every acknowledged row, deletes all or nothing, no duplicate, no orphan file, a
/// clean check and queries equal to brute force. CI: each point at two hit counts (the first and a
/// seeded later one); <c>HAMMINGDB_KILLPOINT_HITS=N</c> runs N hit counts per point.
/// </summary>
public sealed class KillPointTests(KillPointTests.Calibration calibration, ITestOutputHelper output) : IClassFixture<KillPointTests.Calibration>
{
    private const int Seed = 6061;

    [Fact]
    public void Every_kill_point_is_hit_by_the_workload()
    {
        calibration.Log.ForEach(output.WriteLine);
        var hit = calibration.Steps.SelectMany(s => s.Trace).ToHashSet(StringComparer.Ordinal);
        string[] missed = KillPoints.All.Keys.Where(p => !hit.Contains(p)).Order(StringComparer.Ordinal).ToArray();
        string[] unknown = hit.Where(p => !KillPoints.All.ContainsKey(p)).ToArray();
        Assert.True(missed.Length == 0, $"kill points the workload never reaches: {string.Join(", ", missed)}");
        Assert.True(unknown.Length == 0, $"hits of points KillPoints.All does not list: {string.Join(", ", unknown)}");
    }

    [Fact]
    public void A_sigkill_at_every_kill_point_loses_nothing_acknowledged()
    {
        int perPoint = int.TryParse(Environment.GetEnvironmentVariable("HAMMINGDB_KILLPOINT_HITS"), out int n) && n >= 1 ? n : 1;
        var random = new Random(Seed);
        KillWorkload workload = calibration.Workload;
        output.WriteLine($"seed {Seed}, {perPoint} hit counts per point, {KillPoints.All.Count} points; calibration pass:");
        calibration.Log.ForEach(output.WriteLine);
        var clock = Stopwatch.StartNew();
        int runs = 0, kills = 0;
        var notReached = new List<string>();
        string only = Environment.GetEnvironmentVariable("HAMMINGDB_KILLPOINT_ONLY") ?? "";
        foreach (string point in KillPoints.All.Keys.Where(p => p.Contains(only, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            // The pass from the first step that hits the point; the hit counts within what that reached in calibration.
            int first = calibration.Steps.FindIndex(s => s.Hits(point) > 0);
            Assert.True(first >= 0, $"{point} is not reached by the workload");
            // CI: within the first step that reaches it (each run one child); long form: anywhere in the rest of the pass.
            long total = perPoint == 1 ? calibration.Steps[first].Hits(point) : calibration.Steps.Skip(first).Sum(s => s.Hits(point));
            foreach (long at in HitCounts(total, perPoint, random))
            {
                runs++;
                long seen = 0;
                string died = "not reached";
                for (int i = first; i < calibration.Steps.Count; i++)
                {
                    KillWorkload.Outcome outcome = workload.Run(calibration.Steps[i].Step, point, at - seen);
                    workload.Verify($"{point} #{at} ({outcome.Detail})");
                    if (outcome.KilledAtPoint)
                    {
                        kills++;
                        died = outcome.Detail;
                        break;
                    }
                    seen += outcome.Hits(point);
                }
                output.WriteLine($"{point} #{at} of {total}: {died}; {workload.Rows} rows after reopen ({clock.Elapsed.TotalSeconds:F1} s)");
                if (died == "not reached")
                {
                    // Background compaction's timing changes how often some points are hit; the first hit is always reached.
                    Assert.True(at > 1, $"{point}: the workload did not reach its first hit");
                    notReached.Add($"{point} #{at}");
                }
            }
        }
        output.WriteLine($"{kills} of {runs} runs killed at their point ({string.Join(", ", notReached)} not reached), " +
                         $"{workload.QueriesCompared} queries compared, {clock.Elapsed.TotalSeconds:F0} s");
        Assert.True(notReached.Count * 5 <= runs, $"{notReached.Count} of {runs} armed runs never reached their hit");
    }

    // One seeded count in [1, total]; with more per point: 1, the last hit seen in calibration, and seeded ones between.
    private static List<long> HitCounts(long total, int perPoint, Random random)
    {
        if (perPoint == 1)
        {
            return [random.NextInt64(1, total + 1)];
        }
        var counts = new SortedSet<long> { 1, total };
        for (int attempt = 0; counts.Count < Math.Min(perPoint, total) && attempt < 100; attempt++)
        {
            counts.Add(random.NextInt64(2, total + 1));
        }
        return [.. counts];
    }

    /// <summary>
    /// The workload's database (shared by the class's tests), filled in process, after one unarmed, traced
    /// pass: its steps and the kill points each hit.
    /// </summary>
    public sealed class Calibration : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("hdb-killpoints-").FullName;

        public Calibration()
        {
            Workload = new KillWorkload(_dir, Seed);
            var clock = Stopwatch.StartNew();
            Workload.Prefill();
            foreach (KillWorkload.Step step in KillWorkload.Pass)
            {
                KillWorkload.Outcome outcome = Workload.Run(step);
                Assert.True(outcome.Finished, $"calibration: {outcome.Detail}");
                Workload.Verify($"calibration {step}");
                Steps.Add(outcome);
                Log.Add($"  {step}: " + string.Join(", ", outcome.Trace.GroupBy(t => t).OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key} x{g.Count()}"))));
            }
            Log.Add($"  calibration: {clock.Elapsed.TotalSeconds:F1} s, {Workload.Rows} rows");
        }

        internal KillWorkload Workload { get; }

        internal List<KillWorkload.Outcome> Steps { get; } = [];

        internal List<string> Log { get; } = [];

        public void Dispose() => Directory.Delete(_dir, recursive: true);
    }
}
