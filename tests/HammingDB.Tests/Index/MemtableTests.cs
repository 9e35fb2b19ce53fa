using System.Buffers.Binary;
using HammingDB.Index;
using HammingDB.Kernels;
using HammingDB.Storage.Segments;
using Xunit.Abstractions;

namespace HammingDB.Tests.Index;

public class MemtableTests(ITestOutputHelper output)
{
    private static byte[] Key(ulong key)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, key);
        return bytes;
    }

    private static List<KeyedNeighbor> Brute(Dictionary<ulong, ulong[]> model, ulong[] query, Func<int, bool> keep, int take)
    {
        var all = model.Select(e => new KeyedNeighbor(Key(e.Key), TestData.OracleDistance(e.Value, query))).Where(n => keep(n.Distance)).ToList();
        all.Sort();
        return all.Take(take).ToList();
    }

    private static void AssertSame(List<KeyedNeighbor> expected, List<KeyedNeighbor> actual, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: {expected.Count} expected, {actual.Count} found");
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].Distance == actual[i].Distance && expected[i].Key.AsSpan().SequenceEqual(actual[i].Key), $"{what}: result {i} differs");
        }
    }

    [Theory]
    [InlineData(64, 1)]
    [InlineData(128, 2)]
    [InlineData(200, 3)]
    public void Snapshots_and_searches_equal_a_model_through_upserts_and_deletes(int bits, int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        var memtable = new Memtable(layout, KeyKind.UInt64, hasPayloads: false, vectorDimension: 0);
        var model = new Dictionary<ulong, ulong[]>();
        ulong[][] pool = Enumerable.Range(0, 12).Select(_ => TestData.RandomCode(random, layout)).ToArray(); // ties
        var snapshots = new List<(MemtableSnapshot Snapshot, Dictionary<ulong, ulong[]> Model)>();
        for (int step = 0; step < 3000; step++)
        {
            ulong key = (ulong)random.Next(800);
            if (random.Next(4) == 0)
            {
                Assert.Equal(model.Remove(key), memtable.Delete(Key(key)));
            }
            else
            {
                ulong[] code = random.Next(2) == 0 ? pool[random.Next(pool.Length)] : TestData.RandomCode(random, layout);
                memtable.Upsert(Key(key), code, null, []);
                model[key] = code;
            }
            if (step % 500 == 0)
            {
                snapshots.Add((memtable.Snapshot(), new Dictionary<ulong, ulong[]>(model)));
            }
        }
        snapshots.Add((memtable.Snapshot(), new Dictionary<ulong, ulong[]>(model)));
        Assert.Equal(model.Count, memtable.LiveRows);
        // Every snapshot still shows exactly the rows of its moment, after all later writes.
        foreach (var (snapshot, view) in snapshots)
        {
            for (int q = 0; q < 4; q++)
            {
                ulong[] query = q % 2 == 0 ? pool[random.Next(pool.Length)] : TestData.RandomCode(random, layout);
                foreach (int k in new[] { 1, 7, 50, 2000 })
                {
                    AssertSame(Brute(view, query, _ => true, k), snapshot.Knn(query, k), $"k={k} at sequence {snapshot.Sequence}");
                }
                foreach (int radius in new[] { 0, 3, bits / 2 })
                {
                    AssertSame(Brute(view, query, d => d <= radius, int.MaxValue), snapshot.Radius(query, radius), $"radius {radius} at sequence {snapshot.Sequence}");
                }
            }
        }
    }

    [Fact]
    public void Sealing_takes_the_live_rows_sorted_by_key()
    {
        var layout = new CodeLayout(64);
        var memtable = new Memtable(layout, KeyKind.UInt64, hasPayloads: true, vectorDimension: 2);
        memtable.Upsert(Key(30), [3], [3], [3f, 3f]);
        memtable.Upsert(Key(10), [1], [1], [1f, 1f]);
        memtable.Upsert(Key(20), [2], [2], [2f, 2f]);
        memtable.Upsert(Key(10), [11], [11], [11f, 11f]);
        memtable.Delete(Key(20));
        SegmentContents contents = memtable.ToSegmentContents(mihMinRows: int.MaxValue);
        Assert.Equal([Key(10), Key(30)], contents.Keys);
        Assert.Equal([11UL, 3UL], contents.Codes.Words.ToArray());
        Assert.Equal([[11], [3]], contents.Payloads!);
        Assert.Equal([11f, 11f, 3f, 3f], contents.Vectors);
    }

    [Fact]
    public void More_rows_than_a_chunk_are_searched_across_chunks()
    {
        var layout = new CodeLayout(64);
        var memtable = new Memtable(layout, KeyKind.UInt64, hasPayloads: false, vectorDimension: 0);
        int rows = Memtable.ChunkRows + 1000;
        for (int i = 0; i < rows; i++)
        {
            memtable.Upsert(Key((ulong)i), [(ulong)i * 0x9E3779B97F4A7C15UL], null, []);
        }
        ulong[] query = [(ulong)(rows - 5) * 0x9E3779B97F4A7C15UL];
        List<KeyedNeighbor> nearest = memtable.Snapshot().Knn(query, 1);
        Assert.Equal(Key((ulong)(rows - 5)), nearest[0].Key);
        Assert.Equal(0, nearest[0].Distance);
    }

    [Fact]
    public void Snapshots_taken_while_the_writer_runs_see_exactly_the_rows_of_their_sequence()
    {
        // The writer only inserts new keys, so the view at sequence s holds exactly s rows.
        var layout = new CodeLayout(64);
        var memtable = new Memtable(layout, KeyKind.UInt64, hasPayloads: false, vectorDimension: 0);
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(400));
        var writer = new Thread(() =>
        {
            for (ulong i = 0; !stop.IsCancellationRequested && i < 2_000_000; i++)
            {
                memtable.Upsert(Key(i), [i], null, []);
            }
        });
        string? failure = null;
        int checks = 0;
        var readers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            while (!stop.IsCancellationRequested && failure is null)
            {
                MemtableSnapshot snapshot = memtable.Snapshot();
                // The predicate every search applies to a hit; counting with it is cheap.
                int visible = Enumerable.Range(0, snapshot.Rows).Count(snapshot.IsVisible);
                if (visible != snapshot.Sequence)
                {
                    failure = $"a snapshot at sequence {snapshot.Sequence} saw {visible} rows";
                }
                Interlocked.Increment(ref checks);
            }
        })).ToList();
        writer.Start();
        readers.ForEach(r => r.Start());
        writer.Join();
        readers.ForEach(r => r.Join());
        output.WriteLine($"{checks} snapshots checked, {memtable.Rows} rows written");
        Assert.Null(failure);
        Assert.True(checks > 10);
    }

    [Fact]
    public void Bad_rows_are_refused_without_changing_anything()
    {
        var memtable = new Memtable(new CodeLayout(72), KeyKind.UInt64, hasPayloads: false, vectorDimension: 3);
        Assert.Throws<ArgumentException>(() => memtable.Upsert(Key(1), [0UL], null, [1f, 2f, 3f]));
        Assert.Throws<ArgumentException>(() => memtable.Upsert(Key(1), [0UL, 1UL << 9], null, [1f, 2f, 3f]));
        Assert.Throws<ArgumentException>(() => memtable.Upsert(Key(1), [0UL, 0UL], [1], [1f, 2f, 3f]));
        Assert.Throws<ArgumentException>(() => memtable.Upsert(Key(1), [0UL, 0UL], null, [1f]));
        Assert.Throws<ArgumentException>(() => memtable.Upsert([1, 2, 3], [0UL, 0UL], null, [1f, 2f, 3f]));
        var strings = new Memtable(new CodeLayout(8), KeyKind.String, hasPayloads: false, vectorDimension: 0);
        Assert.Throws<ArgumentException>(() => strings.Upsert(new byte[SegmentFormat.MaxStringKeyBytes + 1], [0UL], null, []));
        strings.Upsert([], [0UL], null, []);
        Assert.Equal(0, memtable.Rows);
        Assert.False(memtable.Delete(Key(1)));
    }
}
