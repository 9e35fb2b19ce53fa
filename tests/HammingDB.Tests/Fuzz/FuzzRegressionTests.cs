using HammingDB.Fuzz;

namespace HammingDB.Tests.Fuzz;

/// <summary>
/// Every file of fuzz/corpus (the seeds) and fuzz/regressions (each crash or hang AFL++ ever found,
/// kept after its fix) replayed in-process through <see cref="FuzzTargets.Run"/>, the entry the fuzzer
/// drives: the parser must succeed or throw its documented error, within the allocation bound, and
/// finish (a hang fails after a minute). The directories name the targets.
/// </summary>
public sealed class FuzzRegressionTests
{
    private static readonly string[] Kinds = ["corpus", "regressions"];

    private static string FuzzDirectory => Path.Combine(ArchitectureTests.RepositoryRoot(), "fuzz");

    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (string kind in Kinds)
        {
            string directory = Path.Combine(FuzzDirectory, kind);
            if (!Directory.Exists(directory))
            {
                continue;
            }
            foreach (string target in Directory.GetDirectories(directory).Order(StringComparer.Ordinal))
            {
                foreach (string file in Directory.GetFiles(target).Order(StringComparer.Ordinal))
                {
                    data.Add(Path.GetFileName(target), Path.GetRelativePath(FuzzDirectory, file));
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Replays_to_an_allowed_outcome(string target, string file)
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(FuzzDirectory, file));
        Exception? failure = null;
        // Its own thread: the allocation bound counts the allocations of the calling thread, and a hang must not stop the suite.
        var thread = new Thread(() =>
        {
            try
            {
                FuzzTargets.Run(target, bytes);
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromMinutes(1)), $"{file}: target {target} did not finish within a minute (a hang)");
        Assert.True(failure is null, $"{file}: target {target} failed: {failure}");
    }

    [Fact]
    public void Every_target_has_seeds_and_every_directory_names_a_target()
    {
        foreach (string target in FuzzTargets.Names)
        {
            string seeds = Path.Combine(FuzzDirectory, "corpus", target);
            Assert.True(Directory.Exists(seeds) && Directory.GetFiles(seeds).Length > 0, $"target {target} has no seeds in fuzz/corpus/{target}");
        }
        foreach (string kind in Kinds)
        {
            string directory = Path.Combine(FuzzDirectory, kind);
            foreach (string target in Directory.Exists(directory) ? Directory.GetDirectories(directory) : [])
            {
                Assert.Contains(Path.GetFileName(target), FuzzTargets.Names);
            }
        }
    }

    [Fact]
    public void The_whole_fuzz_directory_stays_small()
    {
        long bytes = Directory.GetFiles(Path.Combine(FuzzDirectory, "corpus"), "*", SearchOption.AllDirectories)
            .Concat(Directory.Exists(Path.Combine(FuzzDirectory, "regressions")) ? Directory.GetFiles(Path.Combine(FuzzDirectory, "regressions"), "*", SearchOption.AllDirectories) : [])
            .Sum(f => new FileInfo(f).Length);
        Assert.True(bytes < 1 << 20, $"fuzz/corpus and fuzz/regressions hold {bytes} bytes; keep them under 1 MiB");
    }

    [Fact]
    public void An_unknown_target_is_refused() =>
        Assert.Throws<ArgumentException>(() => FuzzTargets.Run("no-such-target", []));
}
