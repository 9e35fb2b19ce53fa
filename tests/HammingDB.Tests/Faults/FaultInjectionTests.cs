using System.Diagnostics;
using HammingDB.Storage;
using Xunit.Abstractions;

namespace HammingDB.Tests.Faults;

/// <summary>
/// Fault injection through the file-system seam. Each workload (ingest, ingest by concurrent writers,
/// seal with MIH tables, compaction, open/recovery, check) is a short deterministic script through the
/// public API. Run once clean, it makes C I/O calls; then for N = 1..C (every <c>stride</c>-th: the
/// environment variable HAMMINGDB_FAULT_STRIDE, 1 for every N) the N-th I/O call of any kind fails,
/// once or for good, with EIO or ENOSPC. Under the fault only typed errors escape, no write is
/// acknowledged after the log writer failed, and reads still answer as brute force over the rows the
/// model allows. Then three copies of the disk are reopened with no fault: as a killed process leaves
/// it (everything written), as a power loss leaves it (only what was synced), and after a close with
/// the fault still armed then a power loss with a torn tail. Each must pass Check, open with no
/// orphan left, hold every acknowledged write and every other whole or not at all, and answer every
/// search plan as brute force.
/// </summary>
public class FaultInjectionTests(ITestOutputHelper output)
{
    private const int DefaultStride = 5;
    private static readonly ulong[] Centers = [0x0123_4567_89ab_cdefUL, 0xfedc_ba98_7654_3210UL, 0x0f0f_0f0f_f0f0_f0f0UL];

    private static int Stride =>
        int.TryParse(Environment.GetEnvironmentVariable("HAMMINGDB_FAULT_STRIDE"), out int stride) && stride > 0 ? stride : DefaultStride;

    /// <summary>A workload: options, a clean setup (not faulted), the script run under the fault, the keys it touches.</summary>
    private sealed record Workload(string Name, int Seed, DatabaseOptions Options, Action<FaultRun> Setup, Action<FaultRun> Script, ulong[] Universe)
    {
        public TimeSpan SyncDelay { get; init; }
    }

    [Fact]
    public void Ingest_single_writes_and_batches() => RunAll(Ingest());

    [Fact]
    public void Ingest_by_concurrent_writers_sharing_fsyncs() => RunAll(ConcurrentIngest());

    [Fact]
    public void Seal_with_mih_tables_and_deletion_bitmaps() => RunAll(Seal());

    [Fact]
    public void Compaction_of_segments_with_deleted_rows() => RunAll(Compaction());

    [Fact]
    public void Open_and_recovery_over_unsealed_rows_and_orphans() => RunAll(OpenAndRecovery());

    [Fact]
    public void Check_of_a_database_with_every_kind_of_file() => RunAll(CheckWorkload());

    // ---- workloads ----

    private static ulong[] Keys(int count) => [.. Enumerable.Range(0, count).Select(k => (ulong)k)];

    private static ulong NextCode(Random random)
    {
        ulong code = Centers[random.Next(Centers.Length)];
        for (int flips = random.Next(7); flips > 0; flips--)
        {
            code ^= 1UL << random.Next(64);
        }
        return code;
    }

    // Upserts (new keys and overwrites), deletes and batches of 2..4 distinct keys mixing both.
    private static void MixedWrites(FaultRun run, ulong[] keys, int count, int flushEvery = 0)
    {
        for (int step = 1; step <= count; step++)
        {
            Random random = run.Random;
            int action = random.Next(10);
            ulong key = keys[random.Next(keys.Length)];
            if (action < 5)
            {
                run.Upsert(key, NextCode(random));
            }
            else if (action < 7)
            {
                run.Delete(key);
            }
            else
            {
                List<(ulong, ulong?)> ops = [.. keys.OrderBy(_ => random.Next()).Take(2 + random.Next(3))
                    .Select(k => (k, random.Next(4) == 0 ? (ulong?)null : NextCode(random)))];
                run.Batch(ops);
            }
            if (flushEvery > 0 && step % flushEvery == 0)
            {
                run.Flush();
            }
        }
    }

    private static void OpenClean(FaultRun run) => Assert.True(run.Open(), "the clean setup failed to open");

    private static Workload Ingest() => new("ingest", 11, new DatabaseOptions { SealRows = 100_000, BackgroundCompaction = false },
        OpenClean, run => MixedWrites(run, Keys(24), 40), Keys(24));

    private static Workload ConcurrentIngest() => new("ingest-concurrent", 12, new DatabaseOptions { SealRows = 100_000, BackgroundCompaction = false },
        OpenClean,
        run =>
        {
            // Each thread writes its own keys; the model is shared.
            Thread[] threads = [.. Enumerable.Range(0, 4).Select(t => new Thread(() =>
            {
                var random = new Random(run.Random.GetHashCode() + t);
                for (int i = 0; i < 10; i++)
                {
                    ulong key = (ulong)(t * 100 + random.Next(6));
                    if (i % 4 == 3)
                    {
                        run.Batch([(key, NextCode(random)), ((ulong)(t * 100 + 6 + random.Next(3)), random.Next(2) == 0 ? null : NextCode(random))]);
                    }
                    else if (random.Next(5) == 0)
                    {
                        run.Delete(key);
                    }
                    else
                    {
                        run.Upsert(key, NextCode(random));
                    }
                }
            }))];
            Array.ForEach(threads, t => t.Start());
            Array.ForEach(threads, t => t.Join());
        },
        [.. Enumerable.Range(0, 4).SelectMany(t => Enumerable.Range(0, 9).Select(i => (ulong)(t * 100 + i)))])
    {
        SyncDelay = TimeSpan.FromMilliseconds(1),
    };

    // Small seals (automatic when the memtable is full, and explicit), each segment with MIH tables; deletes of sealed rows make bitmaps.
    private static Workload Seal() => new("seal", 13, new DatabaseOptions { SealRows = 8, MihMinRows = 4, BackgroundCompaction = false },
        OpenClean,
        run =>
        {
            MixedWrites(run, Keys(20), 30, flushEvery: 10);
            // Writes right after the last flush: a seal that failed must not let them go to a log the disk no longer names.
            run.Upsert(3, NextCode(run.Random));
            run.Delete(4);
        },
        Keys(20));

    // Four segments with deleted and superseded rows, compacted; writes after it and a second compaction.
    private static Workload Compaction() => new("compaction", 14, new DatabaseOptions { SealRows = 1000, MihMinRows = 6, BackgroundCompaction = false },
        run =>
        {
            OpenClean(run);
            for (int segment = 0; segment < 4; segment++)
            {
                for (int i = 0; i < 8; i++)
                {
                    Assert.True(run.Upsert((ulong)(segment * 6 + i), NextCode(run.Random)));
                }
                Assert.True(run.Delete((ulong)(segment * 5)));
                Assert.True(run.Flush());
            }
        },
        run =>
        {
            run.Compact();
            MixedWrites(run, Keys(30), 6);
            run.Flush();
            run.Compact();
        },
        Keys(30));

    // A database closed with rows in its log (SealOnClose off), two segments, a bitmap, and orphans
    // (an unnamed segment, a temporary file, an old bitmap); the key index is rebuilt at every open.
    private static void Unsealed(FaultRun run)
    {
        OpenClean(run);
        for (int i = 0; i < 12; i++)
        {
            Assert.True(run.Upsert((ulong)i, NextCode(run.Random)));
        }
        Assert.True(run.Flush());
        for (int i = 6; i < 16; i++)
        {
            Assert.True(run.Upsert((ulong)i, NextCode(run.Random)));
        }
        Assert.True(run.Delete(2));
        Assert.True(run.Flush());
        Assert.True(run.Delete(3));
        Assert.True(run.Upsert(7, NextCode(run.Random)));
        Assert.True(run.Batch([(17, NextCode(run.Random)), (4, null), (18, NextCode(run.Random))]));
        run.Close();
        foreach (string orphan in new[] { FileNames.Segment(90), FileNames.Temp(FileNames.Manifest), FileNames.Deletions(2, 7) })
        {
            using IStorageFile file = run.Fs.Create(Path.Combine(FaultRun.Dir, orphan));
            file.Write(0, "not a file of this database"u8);
            file.Sync();
        }
        run.Fs.SyncDirectory(FaultRun.Dir);
    }

    private static Workload OpenAndRecovery() => new("open", 15, new DatabaseOptions { SealRows = 1000, MihMinRows = 4, BackgroundCompaction = false, SealOnClose = false },
        Unsealed,
        run =>
        {
            if (run.Open())
            {
                MixedWrites(run, Keys(20), 4);
                run.Flush();
            }
        },
        Keys(20));

    private static Workload CheckWorkload() => new("check", 16, new DatabaseOptions { SealRows = 1000, MihMinRows = 4, BackgroundCompaction = false, SealOnClose = false },
        Unsealed,
        run =>
        {
            CheckReport? report = null;
            if (run.Try("check", () => report = HammingDatabase.Check(run.Fs, FaultRun.Dir, run.KeyIndex)) && !report!.Ok)
            {
                // Check reports what it cannot read as damage, naming the failure (without the manifest, the
                // orphans planted above are then checked on their own, and reported as damage too).
                Assert.True(run.Fs.Fired.Count > 0, $"Check found damage with no fault: {string.Join("; ", report.Problems)}");
                Assert.Contains(report.Problems, p => p.Severity == CheckSeverity.Damage && p.Problem.Contains("injected", StringComparison.Ordinal));
            }
            run.Open();
        },
        Keys(20));

    // ---- the driver ----

    private void RunAll(Workload workload)
    {
        var clock = Stopwatch.StartNew();
        IReadOnlyList<ulong> queries = [.. Centers, Centers[0] ^ 0x11, Centers[1] ^ 0x1_0000_0001, 0xaaaa_aaaa_aaaa_aaaaUL];
        int calls = Run(workload, null, queries, out _, out _);
        output.WriteLine($"{workload.Name}: seed {workload.Seed}, a clean run makes {calls} I/O calls; stride {Stride}");
        Assert.True(calls > 0);
        int runs = 0, faulted = 0, injected = 0, reopens = 0, refused = 0;
        var modes = new (bool Forever, InjectedError Error)[] { (false, InjectedError.Io), (true, InjectedError.Io), (false, InjectedError.NoSpace), (true, InjectedError.NoSpace) };
        for (int m = 0; m < modes.Length; m++)
        {
            // Each mode starts at another offset, so that together they cover more of 1..C.
            for (int nth = 1 + (m * Stride / modes.Length); nth <= calls; nth += Stride)
            {
                Run(workload, (nth, modes[m].Forever, modes[m].Error), queries, out int fired, out int refusedHere);
                runs++;
                faulted += fired > 0 ? 1 : 0;
                injected += fired;
                reopens += 3;
                refused += refusedHere;
            }
        }
        output.WriteLine($"{workload.Name}: {runs} faulted runs ({faulted} hit their fault), {injected} faults injected, {refused} writes refused after a failed log write/sync, {reopens} reopens verified, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(faulted > runs / 2, $"only {faulted} of {runs} runs hit their fault");
    }

    // One run; returns the I/O calls the script (and the close) made.
    private int Run(Workload workload, (int Nth, bool Forever, InjectedError Error)? fault, IReadOnlyList<ulong> queries, out int fired, out int refused)
    {
        string context = fault is { } f ? $"{workload.Name} seed {workload.Seed}: {(f.Forever ? "fail-forever" : "fail-once")} {f.Error} at I/O call {f.Nth}" : $"{workload.Name} seed {workload.Seed}: clean";
        var run = new FaultRun(workload.Options, workload.Seed);
        workload.Setup(run);
        run.Fs.SyncDelay = workload.SyncDelay;
        int start = run.Fs.TotalCalls;
        if (fault is { } armed)
        {
            run.Fs.FailAny(armed.Nth, armed.Forever, armed.Error);
        }
        try
        {
            workload.Script(run);
            if (fault is not null && run.Fs.Fired.Count > 0)
            {
                context += $" ({run.Fs.Fired[0].Kind} {run.Fs.Fired[0].Path})";
            }
            // Reads go on whatever failed.
            if (run.Items is { } items)
            {
                run.VerifyReads(items, workload.Universe, queries, context + ", live");
            }
            MemoryFileSystem killed = run.Fs.Clone();
            MemoryFileSystem powerLoss = run.Fs.Clone(powerLoss: true);
            run.Close();
            int calls = run.Fs.TotalCalls - start;
            fired = run.Fs.Fired.Count;
            refused = run.RefusedAfterStop;
            if (fault is null)
            {
                Assert.Equal(0, run.Errors);
            }
            run.Fs.Disarm();
            run.Fs.SyncDelay = TimeSpan.Zero;
            run.Fs.Crash(new Random(workload.Seed));
            run.VerifyRecovered(killed, workload.Universe, queries, context + ", process killed");
            run.VerifyRecovered(powerLoss, workload.Universe, queries, context + ", power loss");
            run.VerifyRecovered(run.Fs, workload.Universe, queries, context + ", closed then power loss");
            return calls;
        }
        catch (Exception) when (Report(context))
        {
            throw;
        }
    }

    private bool Report(string context)
    {
        output.WriteLine($"failed: {context}");
        return false;
    }
}
