using System.Numerics;
using HammingDB.Storage;
using HammingDB.Storage.Keys;
using HammingDB.Storage.Manifest;

namespace HammingDB.Tests.Faults;

/// <summary>
/// One run of a fault-injection workload: a database over a <see cref="MemoryFileSystem"/>, the
/// operations a script makes through the public API (each recorded in a <see cref="FaultModel"/> as
/// acknowledged or not), and the checks every operation must pass under a fault: only typed errors,
/// and no write acknowledged once the log writer has failed.
/// </summary>
internal sealed class FaultRun(DatabaseOptions options, int seed)
{
    public const string Dir = "/db";
    public const string Collection = "items";

    public MemoryFileSystem Fs { get; } = new();

    public MemoryKeyIndexStore KeyIndex { get; } = new();

    public FaultModel Model { get; } = new();

    public DatabaseOptions Options { get; } = options;

    public Random Random { get; } = new(seed);

    public HammingDatabase? Db { get; private set; }

    public HammingCollection<ulong>? Items { get; private set; }

    /// <summary>Operations that threw (a typed error).</summary>
    public int Errors => _errors;

    /// <summary>Writes refused because the writer had stopped (each checked to throw).</summary>
    public int RefusedAfterStop => _refusedAfterStop;

    private int _errors;
    private int _refusedAfterStop;

    /// <summary>Opens the database (creating the collection if absent); false if it threw.</summary>
    public bool Open() => Try("open", () =>
    {
        HammingDatabase db = HammingDatabase.Open(Fs, Dir, Options, KeyIndex);
        try
        {
            Items = db.CollectionNames.Contains(Collection)
                ? db.GetCollection<ulong>(Collection)
                : db.CreateCollection<ulong>(Collection, new CollectionOptions { CodeBits = 64 });
        }
        catch
        {
            db.Dispose();
            throw;
        }
        Db = db;
    });

    /// <summary>Disposes the database, which must never throw, whatever failed.</summary>
    public void Close()
    {
        HammingDatabase? db = Db;
        Db = null;
        Items = null;
        db?.Dispose();
    }

    public bool Upsert(ulong key, ulong code) => Write([(key, code)], items => items.Upsert(key, [code]));

    public bool Delete(ulong key) => Write([(key, null)], items => items.Delete(key));

    public bool Batch(IReadOnlyList<(ulong Key, ulong? Code)> ops) => Write(ops, items =>
    {
        CollectionBatch<ulong> batch = items.NewBatch();
        foreach ((ulong key, ulong? code) in ops)
        {
            if (code is { } c)
            {
                batch.Upsert(key, [c]);
            }
            else
            {
                batch.Delete(key);
            }
        }
        items.Apply(batch);
    });

    public bool Flush() => Db is not null && Try("flush", Db.Flush);

    public bool Compact() => Db is not null && Try("compact", Db.Compact);

    /// <summary>Runs <paramref name="action"/>; a typed error (a <see cref="StorageException"/>) is counted, anything else fails the test.</summary>
    public bool Try(string what, Action action)
    {
        try
        {
            action();
            return true;
        }
        catch (Exception e)
        {
            AssertTyped(e, what);
            Interlocked.Increment(ref _errors);
            return false;
        }
    }

    public void AssertTyped(Exception e, string what)
    {
        Assert.True(e is StorageException, $"{what}: an untyped error escaped: {e}");
        Assert.True(Fs.Fired.Count > 0, $"{what}: an error with no fault injected: {e}");
    }

    // A write: acknowledged when it returns, else unsure. Once the log writer has failed (a write or
    // sync of the log), it must throw: nothing is acknowledged after a failed sync.
    private bool Write(IReadOnlyList<(ulong Key, ulong? Code)> ops, Action<HammingCollection<ulong>> write)
    {
        HammingCollection<ulong>? items = Items;
        if (items is null)
        {
            return false;
        }
        bool stopped = LogWriterFailed();
        if (Try("write", () => write(items)))
        {
            Assert.False(stopped, $"a write was acknowledged after the log writer failed ({string.Join(", ", Fs.Fired.Take(3))})");
            Model.Acknowledge(ops);
            return true;
        }
        if (stopped)
        {
            Interlocked.Increment(ref _refusedAfterStop);
        }
        Model.Unsure(ops);
        return false;
    }

    private bool LogWriterFailed() => Fs.Fired.Any(f => f.Kind is "write" or "sync" && FileNames.TryParseLog(Path.GetFileName(f.Path), out _));

    /// <summary>
    /// Reads through a database that is open (perhaps stopped by a fault): every key holds what the
    /// model allows, and every search, by every plan, equals brute force over those rows.
    /// </summary>
    public void VerifyReads(HammingCollection<ulong> items, IReadOnlyCollection<ulong> universe, IReadOnlyList<ulong> queries, string context)
    {
        Dictionary<ulong, ulong> state = Model.Verify(universe, key => items.TryGet(key, out StoredRow<ulong>? row) ? row!.Code[0] : null, context);
        Assert.True(state.Count == items.Count, $"{context}: Count is {items.Count}, the keys hold {state.Count} rows");
        Assert.Equal(state.Keys.Order(), items.EnumerateRows().Select(r => r.Key));
        foreach (ulong query in queries)
        {
            foreach (QueryPlan plan in new[] { QueryPlan.Auto, QueryPlan.Mih, QueryPlan.Scan })
            {
                foreach (int k in new[] { 1, 5, 40 })
                {
                    List<SearchResult<ulong>> expected = [.. BruteForce(state, query).Take(k)];
                    Assert.True(expected.SequenceEqual(items.Knn([query], k, plan)), $"{context}: knn k={k} plan {plan} of 0x{query:x16} differs from brute force");
                }
                foreach (int radius in new[] { 0, 4, 12 })
                {
                    List<SearchResult<ulong>> expected = [.. BruteForce(state, query).TakeWhile(r => r.Distance <= radius)];
                    Assert.True(expected.SequenceEqual(items.Radius([query], radius, plan)), $"{context}: radius {radius} plan {plan} of 0x{query:x16} differs from brute force");
                }
            }
        }
    }

    private static IEnumerable<SearchResult<ulong>> BruteForce(Dictionary<ulong, ulong> state, ulong query) =>
        state.Select(e => new SearchResult<ulong>(e.Key, BitOperations.PopCount(e.Value ^ query))).OrderBy(r => r.Distance).ThenBy(r => r.Key);

    /// <summary>
    /// What must hold of a copy of the disk with no fault armed: Check finds no damage, Open succeeds
    /// and leaves no file the manifest does not name, every acknowledged write is there and every
    /// other one whole or absent, searches equal brute force, and after a clean close Check is clean.
    /// </summary>
    public void VerifyRecovered(MemoryFileSystem fs, IReadOnlyCollection<ulong> universe, IReadOnlyList<ulong> queries, string context)
    {
        var keyIndex = new MemoryKeyIndexStore();
        CheckReport before = HammingDatabase.Check(fs, Dir, keyIndex);
        Assert.True(before.Ok, $"{context}: Check before the reopen: {string.Join("; ", before.Problems)}");
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, Options, keyIndex))
        {
            ManifestState manifest = ManifestStore.Read(fs, Dir)!;
            var named = new HashSet<string>(StringComparer.Ordinal) { FileNames.Log(manifest.LogNumber) };
            foreach (SegmentState segment in manifest.Collections.SelectMany(c => c.Segments))
            {
                named.Add(FileNames.Segment(segment.FileNumber));
                if (segment.DeletionVersion > 0)
                {
                    named.Add(FileNames.Deletions(segment.FileNumber, segment.DeletionVersion));
                }
            }
            List<string> orphans = [.. fs.ListFiles(Dir).Where(name => FileNames.IsDataFile(name) && !named.Contains(name))];
            Assert.True(orphans.Count == 0, $"{context}: files left after open that the manifest does not name: {string.Join(", ", orphans)}");
            if (db.CollectionNames.Contains(Collection))
            {
                HammingCollection<ulong> items = db.GetCollection<ulong>(Collection);
                VerifyReads(items, universe, queries, context);
                // It goes on working.
                items.Upsert(1_000_000, [0x5555UL]);
            }
            else
            {
                Model.Verify(universe, _ => null, context); // never created: nothing may have been acknowledged
            }
        }
        CheckReport after = HammingDatabase.Check(fs, Dir, keyIndex);
        Assert.True(after.Ok, $"{context}: Check after a clean close: {string.Join("; ", after.Problems)}");
    }
}
