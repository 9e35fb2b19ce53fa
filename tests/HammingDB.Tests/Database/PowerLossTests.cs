using HammingDB.Kernels;
using HammingDB.Storage;
using HammingDB.Storage.Keys;
using Xunit.Abstractions;

namespace HammingDB.Tests.Database;

/// <summary>
/// A small workload through the in-memory file system, failed at the N-th call of one kind
/// (create, write, sync, rename, directory sync), for every N, then a power loss that keeps only
/// synced bytes (and a random part of torn tails): the database must open with every
/// acknowledged write, and go on working.
/// </summary>
public class PowerLossTests(ITestOutputHelper output)
{
    private const string Dir = "/db";
    private const int Keys = 40;

    [Theory]
    [InlineData("create", 0)]
    [InlineData("write", 1)]
    [InlineData("sync", 2)]
    [InlineData("rename", 3)]
    [InlineData("syncdir", 4)]
    public void Every_fault_then_power_loss_keeps_every_acknowledged_write(string kind, int kindIndex)
    {
        var layout = new CodeLayout(64);
        // Compactions are run by the workload itself, so every run is deterministic.
        var options = new DatabaseOptions { SealRows = 6, BackgroundCompaction = false };
        int faults = 0;
        for (int failAt = 1; failAt <= 45; failAt++)
        {
            int seed = kindIndex * 1000 + failAt;
            var random = new Random(seed);
            var fs = new MemoryFileSystem();
            var keyIndexes = new MemoryKeyIndexStore();
            var model = new Dictionary<ulong, ulong>();
            (ulong Key, ulong? Before, ulong? After)? unsure = null;

            HammingDatabase db = HammingDatabase.Open(fs, Dir, options, keyIndexes);
            HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
            fs.FailOn(kind, failAt);
            for (int step = 0; step < 60; step++)
            {
                ulong key = (ulong)random.Next(Keys);
                ulong code = (ulong)random.NextInt64();
                int action = random.Next(10);
                ulong? before = model.TryGetValue(key, out ulong b) ? b : null;
                try
                {
                    if (action < 7)
                    {
                        items.Upsert(key, [code]);
                        model[key] = code;
                    }
                    else if (action < 9)
                    {
                        items.Delete(key);
                        model.Remove(key);
                    }
                    else if (step % 2 == 0)
                    {
                        db.Flush();
                    }
                    else
                    {
                        db.Compact();
                    }
                }
                catch (StorageException)
                {
                    // Not acknowledged: after the crash the row may be as before or as written.
                    unsure = action < 9 ? (key, before, action < 7 ? code : null) : null;
                    faults++;
                    break;
                }
            }
            fs.Disarm();
            fs.Crash(new Random(seed));
            // What a crash leaves (torn log tail, files of an unfinished step) is never damage to Check.
            CheckReport report = HammingDatabase.Check(fs, Dir, keyIndexes);
            Assert.True(report.Ok, $"seed {seed} ({kind} #{failAt}): {string.Join("; ", report.Problems)}");

            using (HammingDatabase reopened = HammingDatabase.Open(fs, Dir, options, keyIndexes))
            {
                HammingCollection<ulong> recovered = reopened.GetCollection<ulong>("items");
                for (ulong key = 0; key < Keys; key++)
                {
                    ulong? actual = recovered.TryGet(key, out StoredRow<ulong>? row) ? row!.Code[0] : null;
                    if (unsure is { } u && u.Key == key)
                    {
                        Assert.True(actual == u.Before || actual == u.After, $"seed {seed} ({kind} #{failAt}): key {key} is {actual}, neither {u.Before} nor {u.After}");
                        if (actual is { } value)
                        {
                            model[key] = value;
                        }
                        else
                        {
                            model.Remove(key);
                        }
                        continue;
                    }
                    ulong? expected = model.TryGetValue(key, out ulong e) ? e : null;
                    Assert.True(expected == actual, $"seed {seed} ({kind} #{failAt}): key {key} is {actual}, acknowledged {expected}");
                }
                Assert.Equal(model.Count, recovered.Count);
                // It goes on working: more writes, a seal, and a clean reopen.
                recovered.Upsert(1000, [7UL]);
                reopened.Flush();
                Assert.Equal(model.Count + 1, recovered.Knn([7UL], Keys + 10).Count);
            }
            using HammingDatabase again = HammingDatabase.Open(fs, Dir, options, keyIndexes);
            Assert.Equal(model.Count + 1, again.GetCollection<ulong>("items").Count);
        }
        output.WriteLine($"{kind}: {faults} runs hit their fault");
        Assert.True(faults > 0, $"no run hit a {kind} fault");
    }
}
