using System.Diagnostics;
using System.Text;
using HammingDB.Storage;
using HammingDB.Storage.Manifest;

namespace HammingDB.Tests.Faults;

/// <summary>
/// The pieces the crash suites share: <c>hdb</c> run as a child process (<c>dotnet exec hdb.dll</c>)
/// and SIGKILLed at a moment, and the checks after a reopen (no orphan file, a query equal to brute force).
/// </summary>
internal static class CrashHarness
{
    /// <summary>The exit code .NET reports for a child that died of SIGKILL (128 + 9).</summary>
    public const int SigkillExitCode = 137;

    /// <summary>How a child ended.</summary>
    /// <param name="ExitCode">Its exit code (<see cref="SigkillExitCode"/> when a SIGKILL ended it).</param>
    /// <param name="KilledByTimer">Whether <see cref="RunHdb"/> killed it (it had not exited by the kill's moment, and died of it).</param>
    /// <param name="Stdout">Its standard output, line by line.</param>
    /// <param name="Stderr">Its standard error.</param>
    public sealed record Child(int ExitCode, bool KilledByTimer, IReadOnlyList<string> Stdout, string Stderr)
    {
        public bool DiedOfSigkill => ExitCode == SigkillExitCode;
    }

    /// <summary>
    /// Runs <c>hdb ARGS</c> in a child process with <paramref name="environment"/> added; each line of its
    /// standard output goes to <paramref name="onLine"/> as it comes. With <paramref name="killAfterMs"/>,
    /// the child is SIGKILLed that long after it started, or after <paramref name="killClockStarts"/> is
    /// set (waiting for it at most 30 s), unless it has exited by then. Without it, the child is given
    /// <paramref name="timeout"/> (default 5 minutes) and then killed (its result says so).
    /// </summary>
    public static Child RunHdb(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, Action<string>? onLine = null,
        int? killAfterMs = null, ManualResetEventSlim? killClockStarts = null, TimeSpan? timeout = null)
    {
        string hdb = typeof(HammingDB.Cli.Program).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(hdb);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (string name in new[] { "HAMMINGDB_KILL_POINT", "HAMMINGDB_KILL_AT", "HAMMINGDB_KILL_TRACE" })
        {
            start.Environment.Remove(name); // armed only as asked
        }
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        var lines = new List<string>();
        var errors = new StringBuilder();
        using var child = new Process { StartInfo = start };
        child.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (lines)
                {
                    lines.Add(line);
                }
                onLine?.Invoke(line);
            }
        };
        child.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.AppendLine(e.Data);
            }
        };
        child.Start();
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        if (killAfterMs is int delay && killClockStarts is not null)
        {
            var waited = Stopwatch.StartNew();
            while (!killClockStarts.Wait(10) && !child.HasExited && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
            }
        }
        bool exited = child.WaitForExit(killAfterMs ?? (int)(timeout ?? TimeSpan.FromMinutes(5)).TotalMilliseconds);
        if (!exited)
        {
            child.Kill(entireProcessTree: true); // SIGKILL
        }
        child.WaitForExit();
        lock (lines)
        {
            lock (errors)
            {
                // A child that exited on its own just as the kill came was not killed.
                return new Child(child.ExitCode, !exited && child.ExitCode == SigkillExitCode, [.. lines], errors.ToString());
            }
        }
    }

    /// <summary>Asserts that <paramref name="db"/> (just opened: recovery has run) holds no file its manifest does not name.</summary>
    public static void AssertNoOrphans(string db, string context)
    {
        ManifestState manifest = ManifestStore.Read(PosixFileSystem.Instance, db) ?? throw new InvalidOperationException("no manifest");
        var named = new HashSet<string>(StringComparer.Ordinal) { FileNames.Lock, FileNames.Manifest, FileNames.Log(manifest.LogNumber) };
        foreach (SegmentState segment in manifest.Collections.SelectMany(c => c.Segments))
        {
            named.Add(FileNames.Segment(segment.FileNumber));
            if (segment.DeletionVersion > 0)
            {
                named.Add(FileNames.Deletions(segment.FileNumber, segment.DeletionVersion));
            }
        }
        foreach (AttachmentState attachment in manifest.Collections.SelectMany(c => c.Attachments))
        {
            named.Add(FileNames.Attachment(attachment.FileNumber));
        }
        string[] orphans = Directory.GetFiles(db).Select(Path.GetFileName).Where(f => !named.Contains(f!)).ToArray()!;
        Assert.True(orphans.Length == 0, $"{context}: orphan files after recovery: {string.Join(", ", orphans)}");
    }

    /// <summary>The k nearest of <paramref name="rows"/> to <paramref name="query"/> by brute force: distance, then key.</summary>
    public static List<SearchResult<ulong>> BruteForceKnn(IEnumerable<(ulong Key, ulong[] Code)> rows, ulong[] query, int k) =>
        rows.Select(r => new SearchResult<ulong>(r.Key, TestData.OracleDistance(r.Code, query)))
            .OrderBy(r => r.Distance).ThenBy(r => r.Key).Take(k).ToList();

    /// <summary>Every row of <paramref name="rows"/> within <paramref name="radius"/> of <paramref name="query"/> by brute force: distance, then key.</summary>
    public static List<SearchResult<ulong>> BruteForceRadius(IEnumerable<(ulong Key, ulong[] Code)> rows, ulong[] query, int radius) =>
        rows.Select(r => new SearchResult<ulong>(r.Key, TestData.OracleDistance(r.Code, query)))
            .Where(r => r.Distance <= radius).OrderBy(r => r.Distance).ThenBy(r => r.Key).ToList();
}
