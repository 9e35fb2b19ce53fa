using HammingDB.Kernels;
using HammingDB.Storage;
using Xunit.Abstractions;

namespace HammingDB.Tests.Database;

public sealed class DatabaseTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Directory.CreateTempSubdirectory("hdb-db-").FullName, "db");

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_dir)!, recursive: true);

    private sealed record ModelRow(ulong[] Code, byte[] Payload);

    private static List<SearchResult<ulong>> Brute(Dictionary<ulong, ModelRow> model, ulong[] query, Func<int, bool> keep, int take) =>
        model.Select(e => new SearchResult<ulong>(e.Key, TestData.OracleDistance(e.Value.Code, query)))
            .Where(r => keep(r.Distance)).OrderBy(r => r.Distance).ThenBy(r => r.Key).Take(take).ToList();

    [Theory]
    [InlineData(64, 1)]
    [InlineData(104, 2)]
    public void A_long_random_run_equals_a_model_through_flushes_seals_and_reopens(int bits, int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        ulong[][] pool = Enumerable.Range(0, 10).Select(_ => TestData.RandomCode(random, layout)).ToArray();
        // Segments are scanned in blocks of 37 rows, so every block edge is crossed.
        var options = new DatabaseOptions { SealRows = 150, ScanChunkRows = 37 };
        var model = new Dictionary<ulong, ModelRow>();
        HammingDatabase db = HammingDatabase.Open(_dir, options);
        HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = bits, Payloads = true });
        try
        {
            for (int step = 0; step < 1500; step++)
            {
                int action = random.Next(100);
                ulong key = (ulong)random.Next(400);
                if (action < 45)
                {
                    ulong[] code = random.Next(3) == 0 ? pool[random.Next(pool.Length)] : TestData.RandomCode(random, layout);
                    byte[] payload = [(byte)step, (byte)(step >> 8)];
                    items.Upsert(key, code, payload);
                    model[key] = new ModelRow(code, payload);
                }
                else if (action < 60)
                {
                    ulong[] code = TestData.RandomCode(random, layout);
                    byte[] payload = [(byte)step, 1];
                    bool absent = !model.ContainsKey(key);
                    Assert.True(absent == items.Insert(key, code, payload), $"step {step}: insert of key {key}");
                    if (absent)
                    {
                        model[key] = new ModelRow(code, payload);
                    }
                }
                else if (action < 85)
                {
                    Assert.Equal(model.Remove(key), items.Delete(key));
                }
                else if (action < 90)
                {
                    var batch = items.NewBatch();
                    for (int i = 0; i < 20; i++)
                    {
                        ulong k = (ulong)random.Next(400);
                        if (random.Next(4) == 0)
                        {
                            batch.Delete(k);
                            model.Remove(k);
                        }
                        else if (random.Next(4) == 0)
                        {
                            ulong[] code = pool[random.Next(pool.Length)];
                            batch.Insert(k, code, [2]);
                            model.TryAdd(k, new ModelRow(code, [2]));
                        }
                        else
                        {
                            ulong[] code = pool[random.Next(pool.Length)];
                            batch.Upsert(k, code, [1]);
                            model[k] = new ModelRow(code, [1]);
                        }
                    }
                    items.Apply(batch);
                }
                else if (action < 92)
                {
                    db.Flush();
                }
                else if (action < 94)
                {
                    db.Compact();
                }
                else if (action < 97)
                {
                    db.Dispose();
                    db = HammingDatabase.Open(_dir, options);
                    items = db.GetCollection<ulong>("items");
                }
                if (step % 25 == 0 || action >= 90)
                {
                    Check(items, model, random, pool, layout, step);
                }
            }
            db.Dispose();
            db = HammingDatabase.Open(_dir, options);
            Check(db.GetCollection<ulong>("items"), model, random, pool, layout, -1);
        }
        finally
        {
            db.Dispose();
        }
    }

    private static void Check(HammingCollection<ulong> items, Dictionary<ulong, ModelRow> model, Random random, ulong[][] pool, CodeLayout layout, int step)
    {
        Assert.True(model.Count == items.Count, $"step {step}: {model.Count} rows expected, {items.Count} counted");
        CollectionStats stats = items.GetStats();
        Assert.True(stats.Rows == model.Count && stats.SegmentRows - stats.DeletedRows + stats.MemtableRows == model.Count,
            $"step {step}: stats {stats} for {model.Count} rows");
        List<StoredRow<ulong>> rows = items.EnumerateRows().ToList();
        Assert.True(model.Keys.Order().SequenceEqual(rows.Select(r => r.Key)), $"step {step}: EnumerateRows keys differ from the model");
        Assert.All(rows, r => Assert.True(model[r.Key].Code.SequenceEqual(r.Code) && model[r.Key].Payload.SequenceEqual(r.Payload!), $"step {step}: row {r.Key} differs"));
        for (int i = 0; i < 5; i++)
        {
            ulong key = (ulong)random.Next(400);
            bool found = items.TryGet(key, out StoredRow<ulong>? row);
            Assert.True(model.ContainsKey(key) == found, $"step {step}: key {key} found {found}");
            if (found)
            {
                Assert.Equal(model[key].Code, row!.Code);
                Assert.Equal(model[key].Payload, row.Payload);
            }
        }
        ulong[] query = random.Next(2) == 0 ? pool[random.Next(pool.Length)] : TestData.RandomCode(random, layout);
        foreach (int k in new[] { 1, 10, 1000 })
        {
            Assert.True(Brute(model, query, _ => true, k).SequenceEqual(items.Knn(query, k)), $"step {step}: kNN k={k} differs");
        }
        foreach (int radius in new[] { 0, layout.CodeBits / 4 })
        {
            Assert.True(Brute(model, query, d => d <= radius, int.MaxValue).SequenceEqual(items.Radius(query, radius)), $"step {step}: radius {radius} differs");
        }
        // The async and batch forms give the same answers.
        int r = layout.CodeBits / 3;
        Assert.True(Brute(model, query, d => d <= r, int.MaxValue).SequenceEqual(items.RadiusAsync(query, r).ToListAsync().AsTask().Result),
            $"step {step}: RadiusAsync differs");
        Assert.True(Brute(model, query, _ => true, 7).SequenceEqual(items.KnnAsync(query, 7).Result), $"step {step}: KnnAsync differs");
        ulong[] other = TestData.RandomCode(random, layout);
        var knnBatch = items.KnnBatch([query, other, query], 5, threads: 2);
        var radiusBatch = items.RadiusBatch([other, query], r);
        Assert.True(knnBatch.Count == 3 && Brute(model, other, _ => true, 5).SequenceEqual(knnBatch[1]) && knnBatch[0].SequenceEqual(knnBatch[2])
            && Brute(model, query, _ => true, 5).SequenceEqual(knnBatch[0]), $"step {step}: KnnBatch differs");
        Assert.True(Brute(model, other, d => d <= r, int.MaxValue).SequenceEqual(radiusBatch[0])
            && Brute(model, query, d => d <= r, int.MaxValue).SequenceEqual(radiusBatch[1]), $"step {step}: RadiusBatch differs");
    }

    [Fact]
    public async Task Searches_running_while_compactions_replace_segments_see_every_row_once()
    {
        var random = new Random(77);
        var layout = new CodeLayout(64);
        var model = new Dictionary<ulong, ModelRow>();
        using HammingDatabase db = HammingDatabase.Open(_dir, new DatabaseOptions { SealRows = 200 });
        var items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64, Payloads = true });
        for (ulong round = 0; round < 6; round++)
        {
            for (ulong i = 0; i < 200; i++)
            {
                ulong[] code = TestData.RandomCode(random, layout);
                items.Upsert(round * 1000 + i, code, [1]);
                model[round * 1000 + i] = new ModelRow(code, [1]);
            }
            db.Flush();
            for (ulong i = 0; i < 200; i += 7)
            {
                items.Delete(round * 1000 + i);
                model.Remove(round * 1000 + i);
            }
        }
        ulong[] query = TestData.RandomCode(random, layout);
        List<SearchResult<ulong>> expected = Brute(model, query, _ => true, 50);
        string? failure = null;
        int searches = 0;
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested && failure is null)
            {
                if (!expected.SequenceEqual(items.Knn(query, 50)) || items.Count != model.Count)
                {
                    failure = "a search during compaction differs from the model";
                }
                Interlocked.Increment(ref searches);
            }
        })).ToList();
        // Lookups by key while a commit has swapped the segments but not yet moved the index entries.
        int lookups = 0;
        db.BeforeCompactionIndexMoves = () =>
        {
            foreach (ulong key in Enumerable.Range(0, 6000).Select(k => (ulong)k))
            {
                bool found = items.TryGet(key, out StoredRow<ulong>? row);
                if (found != model.ContainsKey(key) || (found && !row!.Code.SequenceEqual(model[key].Code)))
                {
                    failure ??= $"TryGet({key}) during a compaction commit: found {found}";
                }
                lookups++;
            }
        };
        for (int i = 0; i < 3; i++)
        {
            await db.CompactAsync();
            db.Flush();
        }
        Assert.True(lookups > 0);
        stop.Cancel();
        await Task.WhenAll(readers);
        output.WriteLine($"{searches} searches ran during compactions");
        Assert.Null(failure);
        Assert.True(searches > 0);
        Assert.Equal(expected, items.Knn(query, 50));
        // Only the merged segment and the files the manifest names are left.
        Assert.Single(Directory.GetFiles(_dir, "seg-*.hdbs"));
        Assert.Empty(Directory.GetFiles(_dir, "del-*.hdbd"));
    }

    [Fact]
    public void Writes_made_while_a_compaction_merges_are_kept_by_its_commit()
    {
        using (HammingDatabase db = HammingDatabase.Open(_dir, new DatabaseOptions { SealRows = 1000 }))
        {
            var items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
            for (ulong i = 0; i < 30; i++)
            {
                items.Upsert(i, [i]);
                if (i % 10 == 9)
                {
                    db.Flush();
                }
            }
            db.AfterCompactionMerge = () =>
            {
                items.Delete(3);               // a row the merge copied: deleted in the merged segment
                items.Delete(25);
                items.Upsert(4, [444UL]);      // superseded: the copied row dies, the new one is in the memtable
                db.Flush();                    // a seal during the merge writes new deletion bitmaps of the inputs
                items.Delete(7);
            };
            db.Compact();
            db.AfterCompactionMerge = null;
            AssertState(items);
        }
        using (HammingDatabase db = HammingDatabase.Open(_dir))
        {
            AssertState(db.GetCollection<ulong>("items"));
        }

        static void AssertState(HammingCollection<ulong> items)
        {
            Assert.Equal(27, items.Count);
            Assert.False(items.TryGet(3, out _));
            Assert.False(items.TryGet(7, out _));
            Assert.False(items.TryGet(25, out _));
            Assert.True(items.TryGet(4, out StoredRow<ulong>? four));
            Assert.Equal([444UL], four!.Code);
            Assert.Equal([new SearchResult<ulong>(4, 0)], items.Knn([444UL], 1));
            Assert.DoesNotContain(items.Radius([3UL], 0), r => r.Key == 3);
        }
    }

    [Fact]
    public async Task Background_compaction_merges_size_tiers_as_seals_pile_up()
    {
        var random = new Random(91);
        var layout = new CodeLayout(64);
        var model = new Dictionary<ulong, ModelRow>();
        using (HammingDatabase db = HammingDatabase.Open(_dir, new DatabaseOptions { SealRows = 50, CompactionMinSegments = 4 }))
        {
            var items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64, Payloads = true });
            for (ulong i = 0; i < 2000; i++)
            {
                ulong[] code = TestData.RandomCode(random, layout);
                items.Upsert(i, code, [2]);
                model[i] = new ModelRow(code, [2]);
            }
            await db.BackgroundCompactionTask;
            Assert.Null(db.LastBackgroundCompactionError);
            int segments = Directory.GetFiles(_dir, "seg-*.hdbs").Length;
            output.WriteLine($"40 seals left {segments} segments");
            Assert.InRange(segments, 1, 12);
            ulong[] query = TestData.RandomCode(random, layout);
            Assert.Equal(Brute(model, query, _ => true, 20), items.Knn(query, 20));
            Assert.Equal(2000, items.Count);
        }
        using HammingDatabase reopened = HammingDatabase.Open(_dir);
        Assert.Equal(2000, reopened.GetCollection<ulong>("items").Count);
    }

    [Fact]
    public void String_and_Guid_keys_with_vectors_survive_a_reopen()
    {
        Guid id = Guid.NewGuid();
        using (HammingDatabase db = HammingDatabase.Open(_dir))
        {
            var names = db.CreateCollection<string>("names", new CollectionOptions { CodeBits = 16, VectorDimension = 2 });
            names.Upsert("b", [3UL], vector: [1f, 2f]);
            names.Upsert("a", [3UL], vector: [3f, 4f]);
            var guids = db.CreateCollection<Guid>("guids", new CollectionOptions { CodeBits = 512 });
            guids.Upsert(id, new ulong[8]);
            db.Flush();
            names.Upsert("c", [0UL], vector: [5f, 6f]);
        }
        using (HammingDatabase db = HammingDatabase.Open(_dir))
        {
            Assert.Equal(["names", "guids"], db.CollectionNames);
            var names = db.GetCollection<string>("names");
            Assert.Equal([new SearchResult<string>("a", 0), new SearchResult<string>("b", 0), new SearchResult<string>("c", 2)], names.Knn([3UL], 3));
            Assert.True(names.TryGet("b", out StoredRow<string>? row));
            Assert.Equal([1f, 2f], row!.Vector!);
            Assert.Equal(id, db.GetCollection<Guid>("guids").Knn(new ulong[8], 1)[0].Key);
        }
    }

    [Fact]
    public async Task Async_searches_stop_when_cancelled_and_refuse_bad_arguments_at_the_call()
    {
        using HammingDatabase db = HammingDatabase.Open(_dir, new DatabaseOptions { SealRows = 100, ScanChunkRows = 10 });
        var items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
        var random = new Random(3);
        var batch = items.NewBatch();
        for (ulong key = 0; key < 250; key++)
        {
            batch.Upsert(key, [(ulong)random.NextInt64()]);
        }
        items.Apply(batch);
        ulong[] query = [(ulong)random.NextInt64()];
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => items.KnnAsync(query, 3, cancelled.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => items.KnnBatch([query, query], 3, cancellationToken: cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (SearchResult<ulong> _ in items.RadiusAsync(query, 64, cancelled.Token))
            {
            }
        });
        // Cancelled while the results stream: no more come.
        using var midway = new CancellationTokenSource();
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (SearchResult<ulong> _ in items.RadiusAsync(query, 64, midway.Token))
            {
                seen++;
                await midway.CancelAsync();
            }
        });
        Assert.Equal(1, seen);
        // Thrown by the call itself, not by the task it would return.
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = items.KnnAsync(query, 0); });
        Assert.Throws<ArgumentException>(() => items.RadiusAsync(new ulong[2], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => items.RadiusAsync(query, -1));
        Assert.Throws<ArgumentException>(() => items.KnnBatch([query, new ulong[2]], 1));
        Assert.Equal(250, (await items.RadiusAsync(query, 64).ToListAsync()).Count);
    }

    [Fact]
    public void A_second_writer_is_refused_at_once()
    {
        using HammingDatabase db = HammingDatabase.Open(_dir);
        var e = Assert.Throws<StorageException>(() => HammingDatabase.Open(_dir));
        Assert.Contains("locked by another writer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lost_key_index_is_rebuilt_from_the_segments()
    {
        using (HammingDatabase db = HammingDatabase.Open(_dir))
        {
            var items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
            for (ulong i = 0; i < 100; i++)
            {
                items.Upsert(i, [i]);
            }
            db.Flush();
            items.Delete(7);
            db.Flush();
        }
        Directory.Delete(Path.Combine(_dir, "keyindex"), recursive: true);
        using (HammingDatabase db = HammingDatabase.Open(_dir))
        {
            Assert.Equal(99, db.GetCollection<ulong>("items").Count);
        }
        // Its checkpoint metadata overwritten with garbage: FASTER skips the unreadable checkpoint (observed),
        // the index comes back empty at version 0, and it is rebuilt from the segments.
        foreach (string file in Directory.GetFiles(Path.Combine(_dir, "keyindex"), "info.dat*", SearchOption.AllDirectories))
        {
            File.WriteAllBytes(file, Enumerable.Repeat((byte)0x5A, 100).ToArray());
        }
        using (HammingDatabase db = HammingDatabase.Open(_dir))
        {
            var items = db.GetCollection<ulong>("items");
            Assert.Equal(99, items.Count);
            Assert.True(items.TryGet(8, out _));
            Assert.False(items.TryGet(7, out _));
            Assert.True(items.Delete(8));
            Assert.False(items.Delete(7));
            Assert.Equal(98, items.Count);
        }
    }

    [Fact]
    public void Bad_input_is_refused_with_a_clear_error_and_changes_nothing()
    {
        using HammingDatabase db = HammingDatabase.Open(_dir);
        var items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 72 });
        items.Upsert(1, [1UL, 0UL]);
        Assert.Throws<ArgumentException>(() => items.Upsert(2, [1UL]));
        Assert.Throws<ArgumentException>(() => items.Upsert(2, [1UL, 1UL << 8]));
        Assert.Throws<ArgumentException>(() => items.Upsert(2, [1UL, 0UL], payload: [1]));
        Assert.Throws<ArgumentException>(() => items.Knn([1UL], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => items.Knn([1UL, 0UL], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => items.Radius([1UL, 0UL], -1));
        var batch = items.NewBatch();
        batch.Upsert(3, [3UL, 0UL]);
        Assert.Throws<ArgumentException>(() => batch.Upsert(4, [3UL]));
        Assert.Equal(1, batch.Count);
        Assert.Equal(1, items.Count);
        Assert.Throws<ArgumentException>(() => db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => db.CreateCollection<ulong>("odd", new CollectionOptions { CodeBits = 12 }));
        Assert.Throws<KeyNotFoundException>(() => db.GetCollection<ulong>("missing"));
        Assert.Throws<ArgumentException>(() => db.GetCollection<string>("items"));
        Assert.Throws<ArgumentException>(() => db.CreateCollection<double>("doubles", new CollectionOptions { CodeBits = 64 }));
    }
}
