using System.Diagnostics;
using System.Globalization;
using HammingDB.Storage;
using Xunit.Abstractions;

namespace HammingDB.Tests.Faults;

/// <summary>
/// The soak (bench/soak.sh): for <c>HAMMINGDB_SOAK_MINUTES</c> minutes, random <c>hdb</c> steps (ingest, delete,
/// compact, query, train) on one database, most killed with SIGKILL at a random moment or at a random kill point
/// and hit; after each, a reopen checked against the model (<see cref="KillWorkload.Verify"/>: acknowledged rows,
/// no duplicate, no orphan, queries equal to brute force, a clean check) and <c>hdb check</c>. Stops at the first
/// failure (keeping the database) and prints one summary line. Without the variable it does nothing.
/// </summary>
public sealed class SoakTests(ITestOutputHelper output)
{
    [Fact]
    public void Soak()
    {
        if (!double.TryParse(Environment.GetEnvironmentVariable("HAMMINGDB_SOAK_MINUTES"), CultureInfo.InvariantCulture, out double minutes) || minutes <= 0)
        {
            output.WriteLine("HAMMINGDB_SOAK_MINUTES is not set: the soak does not run (bench/soak.sh runs it).");
            return;
        }
        int seed = int.TryParse(Environment.GetEnvironmentVariable("HAMMINGDB_SOAK_SEED"), out int s) ? s : Environment.TickCount & 0x7fffffff;
        string dir = Directory.CreateTempSubdirectory("hdb-soak-").FullName;
        output.WriteLine($"soak: {minutes} min, seed {seed} (HAMMINGDB_SOAK_SEED={seed} repeats the choices), in {dir}");
        var random = new Random(seed);
        string[] points = [.. KillPoints.All.Keys.Order(StringComparer.Ordinal)];
        var reached = new Dictionary<KillWorkload.Step, HashSet<string>>();
        var clock = Stopwatch.StartNew();
        int steps = 0, timedKills = 0, pointKills = 0, reopens = 0, checks = 0, failures = 0;
        string? failure = null;
        var workload = new KillWorkload(dir, seed);
        try
        {
            workload.Prefill();
            while (clock.Elapsed < TimeSpan.FromMinutes(minutes))
            {
                int roll = random.Next(100);
                KillWorkload.Step step = roll switch
                {
                    < 40 => KillWorkload.Step.Ingest,
                    < 60 => KillWorkload.Step.Delete,
                    < 75 => KillWorkload.Step.Compact,
                    < 90 => KillWorkload.Step.Query,
                    _ => KillWorkload.Step.Train,
                };
                int mode = random.Next(100);
                // A point this kind of step was seen to reach (any point until it has been seen once).
                string[] reach = reached.TryGetValue(step, out HashSet<string>? seen) ? [.. seen.Order(StringComparer.Ordinal)] : points;
                string? point = mode is >= 50 and < 85 && reach.Length > 0 ? reach[random.Next(reach.Length)] : null;
                long at = random.Next(1, 6);
                int? delay = mode < 50 ? random.Next(0, 3000) : null;
                string plan = point is not null ? $"armed at {point} #{at}" : delay is int d ? $"kill after {d} ms" : "no kill";
                steps++;
                KillWorkload.Outcome outcome = workload.Run(step, point, at, delay);
                if (!outcome.KilledByTimer && !outcome.KilledAtPoint)
                {
                    reached[step] = [.. outcome.Trace.Union(reached.GetValueOrDefault(step) ?? [])];
                }
                timedKills += outcome.KilledByTimer ? 1 : 0;
                pointKills += outcome.KilledAtPoint ? 1 : 0;
                workload.Verify($"step {steps} ({plan}; {outcome.Detail})");
                reopens++;
                CrashHarness.Child check = CrashHarness.RunHdb(["check", workload.Db]);
                Assert.True(check.ExitCode == 0, $"step {steps}: hdb check exited {check.ExitCode}: {string.Join('\n', check.Stdout)} {check.Stderr}");
                checks += 2; // the API's check in Verify, and hdb check
                output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F0} s  step {steps}: {plan}: {outcome.Detail}; {workload.Rows} rows");
            }
        }
#pragma warning disable CA1031 // every failure is counted, reported and kept for inspection; the test fails below
        catch (Exception e)
#pragma warning restore CA1031
        {
            failures++;
            failure = e.ToString();
            string kept = Path.Combine(Path.GetTempPath(), $"hdb-soak-failure-{seed}");
            CopyDirectory(dir, kept);
            output.WriteLine($"FAILURE at step {steps}: {e}\nthe database is kept in {kept}");
        }
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"soak: {clock.Elapsed.TotalMinutes:F1} min, seed {seed}, {steps} steps, {timedKills + pointKills} kills ({timedKills} at random moments, {pointKills} at kill points), " +
            $"{reopens} reopens, {checks} checks, {workload.QueriesCompared} queries compared, {failures} failures");
        output.WriteLine(summary);
        if (Environment.GetEnvironmentVariable("HAMMINGDB_SOAK_SUMMARY") is { Length: > 0 } file)
        {
            File.WriteAllText(file, summary + "\n" + (failure is null ? "" : failure + "\n"));
        }
        Directory.Delete(dir, recursive: true);
        Assert.True(failures == 0, failure);
    }

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (string file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)), overwrite: true);
        }
        foreach (string sub in Directory.GetDirectories(source))
        {
            CopyDirectory(sub, Path.Combine(destination, Path.GetFileName(sub)));
        }
    }
}
