using System.Globalization;
using System.Runtime.InteropServices;
using HammingDB.Encoders;
using HammingDB.Storage;
using HammingDB.Storage.Keys;
using Xunit.Abstractions;

namespace HammingDB.Tests.Faults;

/// <summary>
/// Read-only opens (<see cref="DatabaseOptions.ReadOnly"/>) on a real directory: every query path answers as a writable
/// open of the same database does, every write API throws <see cref="ReadOnlyDatabaseException"/>, and no file or
/// directory changes (names, lengths, bytes, mtimes) - with unsealed rows in the log, a torn log tail, an orphan file, a
/// key index behind the manifest or none, and on a read-only bind mount.
/// </summary>
public sealed class ReadOnlyTests(ITestOutputHelper output) : IDisposable
{
    private const int Seed = 606;
    private const int Bits = 128;
    private const int Dimension = 8;

    // Keys 0..6099 and 7000, less the 218 multiples of 23 below 5000 and the 30 other keys 1 + 97j below 3000 (874 is both).
    private const int LiveCodes = 6100 + 1 - 218 - 30;

    private readonly string _dir = Directory.CreateTempSubdirectory("hdb-readonly-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Writable sessions keep their rows unsealed at close (SealOnClose false) and compact nothing behind the test's back.
    private static DatabaseOptions Writable => new() { MihMinRows = 256, BackgroundCompaction = false, SealOnClose = false };

    // The defaults (seal on close, background compaction) with ReadOnly: neither may happen.
    private static DatabaseOptions ReadOnly => DatabaseOptions.Default with { ReadOnly = true };

    [Fact]
    public void A_read_only_open_answers_every_query_as_a_writable_open_refuses_every_write_and_changes_no_file()
    {
        output.WriteLine($"seed {Seed}");
        Build(_dir);
        // A file a crash would leave (an unfinished segment): a writable open removes it, a read-only one must not.
        File.WriteAllBytes(Path.Combine(_dir, "seg-0000009999.hdbs.tmp"), [1, 2, 3]);

        List<string> before = DirectorySnapshot.Take(_dir);
        output.WriteLine($"{before.Count} entries before:\n  {string.Join("\n  ", before)}");
        List<string> readOnlyAnswers;
        using (HammingDatabase db = HammingDatabase.Open(_dir, ReadOnly))
        {
            readOnlyAnswers = Answers(db);
            RefuseEveryWrite(db);
            Assert.Equal(readOnlyAnswers, Answers(db)); // the refused writes changed nothing in memory either
        }
        Assert.Equal(before, DirectorySnapshot.Take(_dir));
        output.WriteLine($"{readOnlyAnswers.Count} answer lines; directory unchanged after the read-only session");

        // The key index gone (as if never checkpointed): the read-only open rebuilds one outside the directory.
        Directory.Delete(Path.Combine(_dir, "keyindex"), recursive: true);
        List<string> withoutIndex = DirectorySnapshot.Take(_dir);
        using (HammingDatabase db = HammingDatabase.Open(_dir, ReadOnly))
        {
            Assert.Equal(readOnlyAnswers, Answers(db));
        }
        Assert.Equal(withoutIndex, DirectorySnapshot.Take(_dir));
        Assert.False(Directory.Exists(Path.Combine(_dir, "keyindex")));

        // The reference: a writable open of the same database (it rebuilds the index and removes the orphan).
        using (HammingDatabase db = HammingDatabase.Open(_dir, Writable))
        {
            Assert.Equal(readOnlyAnswers, Answers(db));
        }
        Assert.False(File.Exists(Path.Combine(_dir, "seg-0000009999.hdbs.tmp")));
    }

    /// <summary>
    /// A read-only open with nothing to replay makes no copy of the key index (hundreds of MB for tens of millions of
    /// keys) until a key lookup needs it: searches read their keys from the segments.
    /// </summary>
    [Fact]
    public void A_read_only_open_copies_the_key_index_only_at_the_first_key_lookup()
    {
        string db = Path.Combine(_dir, "lazy");
        using (HammingDatabase created = HammingDatabase.Open(db, new DatabaseOptions { MihMinRows = 256, BackgroundCompaction = false }))
        {
            HammingCollection<ulong> items = created.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
            for (ulong key = 0; key < 1000; key++)
            {
                items.Upsert(key, [unchecked(key * 0x9E3779B97F4A7C15UL)]);
            }
        } // sealed at close: nothing left to replay
        var store = new CountingKeyIndexStore(new FasterKeyIndexStore(Path.Combine(db, "keyindex")));
        using (HammingDatabase reader = HammingDatabase.Open(PosixFileSystem.Instance, Path.GetFullPath(db), ReadOnly, store))
        {
            HammingCollection<ulong> items = reader.GetCollection<ulong>("items");
            Assert.Equal(10, items.Knn([unchecked(5 * 0x9E3779B97F4A7C15UL)], 10).Count);
            Assert.Single(items.Radius([unchecked(5 * 0x9E3779B97F4A7C15UL)], 0));
            Thread.Sleep(300); // time for an open in the background to have started, were there one
            Assert.Equal(0, store.Opened);
            Assert.True(items.TryGet(7, out StoredRow<ulong>? row));
            Assert.Equal(unchecked(7 * 0x9E3779B97F4A7C15UL), row!.Code[0]);
            Assert.False(items.TryGet(5000, out _));
            Assert.Equal(1, store.Opened);
        }
        Assert.Equal(1, store.Opened);
    }

    private sealed class CountingKeyIndexStore(IKeyIndexStore inner) : IKeyIndexStore
    {
        public int Opened { get; private set; }

        public string Location => inner.Location;

        public IKeyIndex Open() => Count(inner.Open);

        public IKeyIndex CreateEmpty() => Count(inner.CreateEmpty);

        public IKeyIndex? OpenCopy() => Count(inner.OpenCopy);

        public IKeyIndex CreateScratch() => Count(inner.CreateScratch);

        // Counted as it starts (an open in the background would be seen before it ends).
        private TIndex Count<TIndex>(Func<TIndex> open)
        {
            Opened++;
            return open();
        }
    }

    [Fact]
    public void A_torn_log_tail_is_served_up_to_its_valid_prefix_and_left_in_place()
    {
        output.WriteLine($"seed {Seed}");
        Build(_dir);
        List<string> expected;
        using (HammingDatabase db = HammingDatabase.Open(_dir, ReadOnly))
        {
            expected = Answers(db);
        }
        string log = Directory.GetFiles(_dir, "wal-*.log").Single();
        long valid = new FileInfo(log).Length;
        using (FileStream stream = new(log, FileMode.Append))
        {
            stream.Write(new byte[] { 0x41, 0, 0, 0, 0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 7 }); // a record's start, cut off
        }
        List<string> before = DirectorySnapshot.Take(_dir);
        using (HammingDatabase db = HammingDatabase.Open(_dir, ReadOnly))
        {
            Assert.Equal(expected, Answers(db));
        }
        Assert.Equal(before, DirectorySnapshot.Take(_dir));
        output.WriteLine($"log {valid} valid bytes + 11 torn: left as it was by the read-only open");

        // A writable open cuts it (the recovery a read-only open leaves undone).
        using (HammingDatabase db = HammingDatabase.Open(_dir, Writable))
        {
            Assert.Equal(expected, Answers(db));
        }
        Assert.Equal(valid, new FileInfo(log).Length);
    }

    [Fact]
    public void Read_only_opens_share_the_lock_and_exclude_a_writer_and_no_database_is_created()
    {
        string missing = Path.Combine(_dir, "missing");
        Assert.Contains("no database", Assert.Throws<StorageException>(() => HammingDatabase.Open(missing, ReadOnly)).Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
        string empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        Assert.Contains("no database", Assert.Throws<StorageException>(() => HammingDatabase.Open(empty, ReadOnly)).Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(empty));

        string path = Path.Combine(_dir, "db");
        Build(path);
        using (HammingDatabase writer = HammingDatabase.Open(path, Writable))
        {
            var e = Assert.Throws<StorageException>(() => HammingDatabase.Open(path, ReadOnly));
            output.WriteLine($"read-only open beside a writer: {e.Message}");
            Assert.Contains("locked by another writer", e.Message, StringComparison.Ordinal);
        }
        using (HammingDatabase first = HammingDatabase.Open(path, ReadOnly))
        using (HammingDatabase second = HammingDatabase.Open(path, ReadOnly))
        {
            Assert.Equal(Answers(first), Answers(second));
            CheckReport report = HammingDatabase.Check(path); // a check shares the lock too
            Assert.True(report.Ok, string.Join("\n", report.Problems));
            var e = Assert.Throws<StorageException>(() => HammingDatabase.Open(path, Writable));
            output.WriteLine($"writable open beside two readers: {e.Message}");
            Assert.Contains("locked by another writer or reader", e.Message, StringComparison.Ordinal);
        }
        using (HammingDatabase writer = HammingDatabase.Open(path, Writable))
        {
            Assert.Equal(LiveCodes, writer.GetCollection<ulong>("codes").Count);
        }
    }

    [Fact]
    public void On_a_read_only_mount_a_read_only_open_answers_and_a_writable_open_fails_clearly()
    {
        output.WriteLine($"seed {Seed}");
        Build(_dir);
        List<string> expected;
        using (HammingDatabase db = HammingDatabase.Open(_dir, ReadOnly))
        {
            expected = Answers(db);
        }
        using MountedDirectory? mount = MountedDirectory.TryBindReadOnly(_dir, output);
        if (mount is null)
        {
            return; // skipped, the reason printed
        }
        output.WriteLine($"{_dir} bound read-only at {mount.Path}");
        Assert.Equal(30, Assert.Throws<IOException>(() => File.WriteAllBytes(Path.Combine(mount.Path, "probe"), [1])).HResult); // EROFS: really read-only
        List<string> before = DirectorySnapshot.Take(mount.Path);
        using (HammingDatabase db = HammingDatabase.Open(mount.Path, ReadOnly))
        {
            Assert.Equal(expected, Answers(db));
            RefuseEveryWrite(db);
        }
        Assert.True(HammingDatabase.Check(mount.Path).Ok);
        var e = Assert.Throws<StorageException>(() => HammingDatabase.Open(mount.Path, Writable));
        output.WriteLine($"writable open on the read-only mount: {e.Message}");
        Assert.Contains("read-only file system", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, DirectorySnapshot.Take(mount.Path));
    }

    // A database with every kind of state: three sealed segments with MIH tables, deletion bitmaps, rows and deletions
    // only in the log (some superseding sealed rows), a string-keyed collection, a vector collection with its encoder
    // attachment, and an attachment of its own.
    internal static void Build(string directory)
    {
        var random = new Random(Seed);
        using HammingDatabase db = HammingDatabase.Open(directory, Writable);
        HammingCollection<ulong> codes = db.CreateCollection<ulong>("codes", new CollectionOptions { CodeBits = Bits, Payloads = true, VectorDimension = Dimension });
        for (int part = 0; part < 3; part++)
        {
            CollectionBatch<ulong> batch = codes.NewBatch();
            for (int i = 0; i < 2000; i++)
            {
                ulong key = (ulong)((part * 2000) + i);
                batch.Upsert(key, Code(random, Bits), Payload(key), Vector(random));
            }
            codes.Apply(batch);
            db.Flush();
        }
        for (ulong key = 0; key < 6000; key += 23)
        {
            codes.Delete(key); // sealed rows, their deletions sealed into bitmaps below
        }
        db.Flush();
        codes.SetAttachment("notes", "read me, never write me"u8);
        for (ulong key = 5000; key < 6100; key++)
        {
            codes.Upsert(key, Code(random, Bits), Payload(key + 1), Vector(random)); // 1000 supersede sealed rows, 100 are new
        }
        for (ulong key = 1; key < 3000; key += 97)
        {
            codes.Delete(key); // deletions only in the log
        }
        Assert.True(codes.Insert(7000, Code(random, Bits), Payload(7000), Vector(random)));

        HammingCollection<string> names = db.CreateCollection<string>("names", new CollectionOptions { CodeBits = 64 });
        for (int i = 0; i < 900; i++)
        {
            names.Upsert($"name-{i:D4}", Code(random, 64));
            if (i == 799)
            {
                db.Flush();
            }
        }

        VectorEncoder encoder = EncoderTraining.Train(new EncoderSpec(EncoderKind.Lsh, 32, Seed), new TrainingSet(Vectors(random, 200), Dimension));
        VectorCollection<ulong> items = VectorCollection.Create<ulong>(db, "items", encoder);
        items.UpsertMany([.. Enumerable.Range(0, 300).Select(i => (ulong)i)], Vectors(random, 300));
        Assert.Equal(LiveCodes, codes.Count);
    }

    // Every read the API offers, as text lines (results, rows, stats, explanations without timings).
    internal static List<string> Answers(HammingDatabase db)
    {
        var lines = new List<string>
        {
            $"collections {string.Join(',', db.CollectionNames)}",
            $"infos {string.Join(';', db.Collections)}",
        };
        var random = new Random(Seed + 1);
        HammingCollection<ulong> codes = db.GetCollection<ulong>("codes");
        codes.WaitForTables();
        lines.Add($"codes count {codes.Count} stats {codes.GetStats()} attachments {string.Join(',', codes.AttachmentNames)} notes {Convert.ToHexString(codes.GetAttachment("notes")!)}");
        List<StoredRow<ulong>> rows = [.. codes.EnumerateRows()];
        lines.AddRange(rows.Select(Row));
        var queries = new List<ReadOnlyMemory<ulong>>();
        for (int q = 0; q < 8; q++)
        {
            ulong[] query = (ulong[])rows[random.Next(rows.Count)].Code.Clone();
            for (int flip = random.Next(12); flip > 0; flip--)
            {
                int bit = random.Next(Bits);
                query[bit / 64] ^= 1UL << (bit % 64);
            }
            queries.Add(query);
        }
        foreach (ReadOnlyMemory<ulong> query in queries)
        {
            foreach (QueryPlan plan in (QueryPlan[])[QueryPlan.Auto, QueryPlan.Mih, QueryPlan.Scan])
            {
                lines.Add($"knn {plan} {Results(codes.Knn(query.Span, 10, plan))}");
                lines.Add($"radius {plan} {Results(codes.Radius(query.Span, 40, plan))}");
            }
            lines.Add($"knn async {Results(codes.KnnAsync(query, 10).GetAwaiter().GetResult())}");
            lines.Add($"radius async {Results(codes.RadiusAsync(query, 40).ToBlockingEnumerable().ToList())}");
            float[] vector = Vector(random);
            lines.Add($"rescored {string.Join(' ', codes.KnnRescored(query.Span, vector, 5, 4, VectorMetric.L2).Select(r => $"{r.Key}:{r.HammingDistance}:{r.VectorDistance:R}"))}");
            QueryExplanation knn = codes.ExplainKnn(query.Span, 10, QueryPlan.Mih);
            QueryExplanation radius = codes.ExplainRadius(query.Span, 40, QueryPlan.Scan);
            lines.Add($"explain {Explained(knn)} | {Explained(radius)}");
        }
        lines.Add($"knn batch {string.Join(" / ", codes.KnnBatch(queries, 10).Select(Results))}");
        lines.Add($"radius batch {string.Join(" / ", codes.RadiusBatch(queries, 40).Select(Results))}");
        foreach (ulong key in (ulong[])[0, 1, 2, 23, 98, 4999, 5000, 5999, 6000, 6099, 6100, 7000, 123456])
        {
            lines.Add($"get {key} {(codes.TryGet(key, out StoredRow<ulong>? row) ? Row(row!) : "none")}");
        }

        HammingCollection<string> names = db.GetCollection<string>("names");
        lines.Add($"names count {names.Count} stats {names.GetStats()}");
        lines.AddRange(names.EnumerateRows().Select(r => $"name {r.Key} {Convert.ToHexString(MemoryMarshal.AsBytes(r.Code.AsSpan()))}"));
        lines.Add($"names knn {Results(names.Knn(Code(random, 64), 7))} get {(names.TryGet("name-0850", out StoredRow<string>? named) ? Convert.ToHexString(MemoryMarshal.AsBytes(named!.Code.AsSpan())) : "none")}");

        VectorCollection<ulong> items = VectorCollection.Open<ulong>(db, "items");
        float[] probe = Vector(random);
        lines.Add($"items {items.Codes.Count} knn {Results(items.Knn(probe, 5))} rescored {string.Join(' ', items.KnnRescored(probe, 5, 3).Select(r => $"{r.Key}:{r.VectorDistance:R}"))}");
        return lines;
    }

    // Every write of the API throws ReadOnlyDatabaseException naming the operation and the database.
    internal static void RefuseEveryWrite(HammingDatabase db)
    {
        var random = new Random(Seed + 2);
        HammingCollection<ulong> codes = db.GetCollection<ulong>("codes");
        HammingCollection<string> names = db.GetCollection<string>("names");
        VectorCollection<ulong> items = VectorCollection.Open<ulong>(db, "items");
        var writes = new (string Operation, Action Write)[]
        {
            ("CreateCollection", () => db.CreateCollection<ulong>("more", new CollectionOptions { CodeBits = 64 })),
            ("Upsert", () => codes.Upsert(1, Code(random, Bits), Payload(1), Vector(random))),
            ("Insert", () => codes.Insert(424242, Code(random, Bits), Payload(2), Vector(random))),
            ("Delete", () => codes.Delete(2)),
            ("Apply", () =>
            {
                CollectionBatch<ulong> batch = codes.NewBatch();
                batch.Delete(3);
                codes.Apply(batch);
            }),
            ("Upsert", () => names.Upsert("name-0001", Code(random, 64))),
            ("Delete", () => names.Delete("name-0001")),
            ("Flush", db.Flush),
            ("Compact", db.Compact),
            ("CompactAsync", () => db.CompactAsync().GetAwaiter().GetResult()),
            ("SetAttachment", () => codes.SetAttachment("notes", [1, 2, 3])),
            ("RemoveAttachment", () => codes.RemoveAttachment("notes")),
            ("Upsert", () => items.Upsert(1, Vector(random))),
            ("Insert", () => items.Insert(9999, Vector(random))),
            ("Apply", () => items.UpsertMany([5, 6], Vectors(random, 2))),
            ("Delete", () => items.Delete(1)),
            ("CreateCollection", () => VectorCollection.Create<ulong>(db, "items2", items.Encoder)),
        };
        foreach ((string operation, Action write) in writes)
        {
            var e = Assert.Throws<ReadOnlyDatabaseException>(write);
            Assert.Equal(operation, e.Operation);
            Assert.Equal(db.Path, e.FilePath);
            Assert.Contains("open read-only", e.Message, StringComparison.Ordinal);
        }
    }

    private static string Results<TKey>(IEnumerable<SearchResult<TKey>> results) => string.Join(' ', results.Select(r => $"{r.Key}:{r.Distance}"));

    private static string Explained(QueryExplanation e) =>
        $"{e.Operation} {e.Results} memtable {e.MemtableRows} segments {string.Join(',', e.Segments.Select(s => $"{s.FileNumber}:{s.Rows}:{s.Tables}:{s.Plan}:{s.Found}"))}";

    private static string Row(StoredRow<ulong> row) =>
        $"row {row.Key} {Convert.ToHexString(MemoryMarshal.AsBytes(row.Code.AsSpan()))} {Convert.ToHexString(row.Payload ?? [])} " +
        string.Join(',', (row.Vector ?? []).Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    internal static ulong[] Code(Random random, int bits)
    {
        var code = new ulong[bits / 64];
        random.NextBytes(MemoryMarshal.AsBytes(code.AsSpan()));
        return code;
    }

    private static byte[] Payload(ulong key) => BitConverter.GetBytes(key * 2654435761UL);

    private static float[] Vector(Random random) => Vectors(random, 1);

    private static float[] Vectors(Random random, int count) => [.. Enumerable.Range(0, count * Dimension).Select(_ => (float)((random.NextDouble() * 2) - 1))];
}
