using System.Collections.Concurrent;
using HammingDB.Storage;
using HammingDB.Storage.Keys;
using Xunit.Abstractions;

namespace HammingDB.Tests.Database;

/// <summary>Writers on many threads: they share fsyncs, lose nothing acknowledged, and stop together on a failed sync.</summary>
public class ConcurrentWriterTests(ITestOutputHelper output)
{
    private const string Dir = "/db";
    private const int Threads = 8;
    private const int WritesPerThread = 60;

    [Fact]
    public void Concurrent_writers_share_fsyncs_and_every_acknowledged_write_survives_a_power_loss()
    {
        // A slow sync, as on a real disk, so that writers queue up behind it.
        var fs = new MemoryFileSystem { SyncDelay = TimeSpan.FromMilliseconds(3) };
        var keyIndexes = new MemoryKeyIndexStore();
        var options = new DatabaseOptions { SealRows = 150, BackgroundCompaction = false };
        var acknowledged = new ConcurrentDictionary<ulong, ulong>();
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, options, keyIndexes))
        {
            HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
            int syncsBefore = fs.Calls("sync");
            RunWriters(items, acknowledged, seed: 5);
            int syncs = fs.Calls("sync") - syncsBefore;
            output.WriteLine($"{Threads * WritesPerThread} writes, {syncs} syncs (including seals)");
            Assert.True(syncs < Threads * WritesPerThread / 2, $"{syncs} syncs for {Threads * WritesPerThread} writes: writers did not share fsyncs");
            AssertHolds(items, acknowledged);
        }
        fs.Crash(new Random(5));
        using HammingDatabase reopened = HammingDatabase.Open(fs, Dir, options, keyIndexes);
        AssertHolds(reopened.GetCollection<ulong>("items"), acknowledged);
    }

    [Fact]
    public void A_failed_sync_stops_every_writer_and_a_reopen_keeps_every_acknowledged_write()
    {
        for (int failAt = 3; failAt <= 30; failAt += 9)
        {
            output.WriteLine($"sync {failAt} fails");
            var fs = new MemoryFileSystem { SyncDelay = TimeSpan.FromMilliseconds(1) };
            var keyIndexes = new MemoryKeyIndexStore();
            var options = new DatabaseOptions { SealRows = 100_000, BackgroundCompaction = false };
            var acknowledged = new ConcurrentDictionary<ulong, ulong>();
            HammingDatabase db = HammingDatabase.Open(fs, Dir, options, keyIndexes);
            HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
            fs.FailOn("sync", failAt);
            int failures = RunWriters(items, acknowledged, seed: failAt);
            Assert.True(failures > 0, "no write failed");
            // Stopped: nothing more is accepted.
            Assert.Throws<StorageException>(() => items.Upsert(1_000_000, [1UL]));
            db.Dispose();
            fs.Disarm();
            fs.Crash(new Random(failAt));
            using HammingDatabase reopened = HammingDatabase.Open(fs, Dir, options, keyIndexes);
            HammingCollection<ulong> after = reopened.GetCollection<ulong>("items");
            foreach ((ulong key, ulong code) in acknowledged)
            {
                Assert.True(after.TryGet(key, out StoredRow<ulong>? row) && row!.Code[0] == code, $"acknowledged key {key} lost");
            }
            after.Upsert(1_000_000, [1UL]);
        }
    }

    [Fact]
    public void Concurrent_inserts_of_the_same_keys_insert_each_once_also_after_a_reopen()
    {
        var fs = new MemoryFileSystem { SyncDelay = TimeSpan.FromMilliseconds(1) };
        var keyIndexes = new MemoryKeyIndexStore();
        var options = new DatabaseOptions { SealRows = 64, BackgroundCompaction = false };
        var wins = new int[100];
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, options, keyIndexes))
        {
            HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
            Thread[] threads = Enumerable.Range(0, Threads).Select(thread => new Thread(() =>
            {
                for (int key = 0; key < wins.Length; key++)
                {
                    if (items.Insert((ulong)key, [(ulong)thread]))
                    {
                        Interlocked.Increment(ref wins[key]);
                    }
                }
            })).ToArray();
            Array.ForEach(threads, t => t.Start());
            Array.ForEach(threads, t => t.Join());
            Assert.All(wins, w => Assert.Equal(1, w));
            Assert.Equal(wins.Length, items.Count);
            Assert.False(items.Insert(5, [99UL]));
        }
        fs.Crash();
        using HammingDatabase reopened = HammingDatabase.Open(fs, Dir, options, keyIndexes);
        HammingCollection<ulong> after = reopened.GetCollection<ulong>("items");
        Assert.Equal(wins.Length, after.Count);
        Assert.True(after.TryGet(5, out StoredRow<ulong>? row) && row!.Code[0] != 99UL);
    }

    // Each thread upserts its own keys (thread * 1000 + i); returns how many writes threw.
    private static int RunWriters(HammingCollection<ulong> items, ConcurrentDictionary<ulong, ulong> acknowledged, int seed)
    {
        int failures = 0;
        // Dedicated threads: the thread pool would start only as many workers as cores.
        Thread[] threads = Enumerable.Range(0, Threads).Select(thread => new Thread(() =>
        {
            var random = new Random(seed * 100 + thread);
            for (int i = 0; i < WritesPerThread; i++)
            {
                ulong key = (ulong)(thread * 1000 + i);
                ulong code = (ulong)random.NextInt64();
                try
                {
                    items.Upsert(key, [code]);
                    acknowledged[key] = code;
                }
                catch (StorageException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToArray();
        Array.ForEach(threads, t => t.Start());
        Array.ForEach(threads, t => t.Join());
        return failures;
    }

    private static void AssertHolds(HammingCollection<ulong> items, ConcurrentDictionary<ulong, ulong> acknowledged)
    {
        Assert.Equal(acknowledged.Count, items.Count);
        foreach ((ulong key, ulong code) in acknowledged)
        {
            Assert.True(items.TryGet(key, out StoredRow<ulong>? row) && row!.Code[0] == code, $"key {key} lost or wrong");
        }
        Assert.Equal(acknowledged.OrderBy(e => e.Key).Select(e => e.Key), items.EnumerateRows().Select(r => r.Key));
    }
}
