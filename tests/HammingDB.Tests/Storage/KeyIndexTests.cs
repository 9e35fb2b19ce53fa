using System.Text;
using HammingDB.Storage.Keys;

namespace HammingDB.Tests.Storage;

public sealed class KeyIndexTests : IDisposable
{
    private readonly string _dir = Path.Combine(Directory.CreateTempSubdirectory("hdb-keys-").FullName, "keyindex");

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_dir)!, recursive: true);

    private static byte[] Key(int i) => Encoding.UTF8.GetBytes($"key-{i}");

    [Fact]
    public void Checkpointed_entries_survive_a_reopen_and_later_ones_do_not()
    {
        const int keys = 50_000;
        using (FasterKeyIndex index = FasterKeyIndex.CreateEmpty(_dir))
        {
            Assert.Equal(0, index.Version);
            for (int i = 0; i < keys; i++)
            {
                index.Upsert(1, Key(i), new RowLocation(i % 7 + 1, i));
                index.Upsert(2, Key(i), new RowLocation(100, -i & int.MaxValue));
            }
            for (int i = 0; i < keys; i += 10)
            {
                index.Delete(1, Key(i));
            }
            index.Upsert(1, Key(5), new RowLocation(9, 55));
            index.Checkpoint(7);
            index.Upsert(1, Key(keys + 1), new RowLocation(1, 1)); // never checkpointed
        }
        using FasterKeyIndex reopened = FasterKeyIndex.Open(_dir);
        Assert.Equal(7, reopened.Version);
        for (int i = 0; i < keys; i++)
        {
            bool found = reopened.TryGet(1, Key(i), out RowLocation location);
            Assert.Equal(i % 10 != 0, found);
            if (found)
            {
                Assert.Equal(i == 5 ? new RowLocation(9, 55) : new RowLocation(i % 7 + 1, i), location);
            }
            Assert.True(reopened.TryGet(2, Key(i), out RowLocation other));
            Assert.Equal(new RowLocation(100, -i & int.MaxValue), other);
        }
        Assert.False(reopened.TryGet(1, Key(keys + 1), out _));
        Assert.False(reopened.TryGet(3, Key(1), out _));
    }

    [Fact]
    public void Readers_on_many_threads_see_every_entry()
    {
        using FasterKeyIndex index = FasterKeyIndex.CreateEmpty(_dir);
        for (int i = 0; i < 20_000; i++)
        {
            index.Upsert(1, Key(i), new RowLocation(1, i));
        }
        int misses = 0;
        Parallel.For(0, 20_000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            if (!index.TryGet(1, Key(i), out RowLocation location) || location != new RowLocation(1, i))
            {
                Interlocked.Increment(ref misses);
            }
        });
        Assert.Equal(0, misses);
    }

    [Fact]
    public void A_rebuild_starts_empty_and_collection_zero_is_reserved()
    {
        using (FasterKeyIndex index = FasterKeyIndex.CreateEmpty(_dir))
        {
            index.Upsert(1, Key(1), new RowLocation(1, 1));
            index.Checkpoint(3);
        }
        using FasterKeyIndex rebuilt = FasterKeyIndex.CreateEmpty(_dir);
        Assert.Equal(0, rebuilt.Version);
        Assert.False(rebuilt.TryGet(1, Key(1), out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => rebuilt.Upsert(0, Key(1), new RowLocation(1, 1)));
    }

    [Fact]
    public void Entries_are_the_live_entries_before_and_after_recovery_and_the_copy_changes_nothing()
    {
        var model = new Dictionary<(uint, string), RowLocation>();
        using (FasterKeyIndex index = FasterKeyIndex.CreateEmpty(_dir))
        {
            for (int i = 0; i < 3000; i++)
            {
                uint collection = (uint)(1 + i % 3);
                index.Upsert(collection, Key(i), new RowLocation(1 + i % 5, i));
                model[(collection, $"key-{i}")] = new RowLocation(1 + i % 5, i);
            }
            for (int i = 0; i < 3000; i += 7)
            {
                uint collection = (uint)(1 + i % 3);
                index.Delete(collection, Key(i));
                model.Remove((collection, $"key-{i}"));
            }
            index.Upsert(2, Key(1), new RowLocation(9, 9));
            model[(2, "key-1")] = new RowLocation(9, 9);
            index.Checkpoint(3);
            // After a fold-over checkpoint the records are read-only: changes append new versions and tombstones.
            for (int i = 1; i < 3000; i += 11)
            {
                uint collection = (uint)(1 + i % 3);
                if (i % 2 == 0)
                {
                    index.Delete(collection, Key(i));
                    model.Remove((collection, $"key-{i}"));
                }
                else
                {
                    index.Upsert(collection, Key(i), new RowLocation(8, i));
                    model[(collection, $"key-{i}")] = new RowLocation(8, i);
                }
            }
            index.Checkpoint(4);
            AssertEntries(index);
        }
        using (FasterKeyIndex reopened = FasterKeyIndex.Open(_dir))
        {
            AssertEntries(reopened);
        }
        Dictionary<string, byte[]> before = Snapshot(_dir);
        using (IKeyIndex? copy = new FasterKeyIndexStore(_dir).OpenCopy())
        {
            Assert.NotNull(copy);
            Assert.Equal(4, copy.Version);
            AssertEntries(copy);
            copy.Upsert(1, Key(1), new RowLocation(1, 1));
            copy.Checkpoint(5);
        }
        Dictionary<string, byte[]> after = Snapshot(_dir);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.All(before, e => Assert.True(e.Value.AsSpan().SequenceEqual(after[e.Key]), $"{e.Key} changed"));
        Assert.Null(new FasterKeyIndexStore(_dir + "-absent").OpenCopy());

        void AssertEntries(IKeyIndex index)
        {
            var seen = index.Entries().ToDictionary(e => (e.Collection, Encoding.UTF8.GetString(e.Key)), e => e.Location);
            Assert.Equal(model.Count, seen.Count); // the version entry (collection 0) is not listed
            Assert.All(model, e => Assert.Equal(e.Value, seen[e.Key]));
        }
    }

    private static Dictionary<string, byte[]> Snapshot(string directory) =>
        Directory.GetFiles(directory, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(directory, f), File.ReadAllBytes);

    [Fact]
    public void Locations_pack_and_unpack()
    {
        foreach (var location in new[] { new RowLocation(1, 0), new RowLocation(uint.MaxValue, int.MaxValue), new RowLocation(123456, 7) })
        {
            Assert.Equal(location, RowLocation.Unpack(location.Pack()));
        }
    }
}
