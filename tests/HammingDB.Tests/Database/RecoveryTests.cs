using HammingDB.Kernels;
using HammingDB.Storage;
using HammingDB.Storage.Keys;
using HammingDB.Storage.Log;
using HammingDB.Storage.Manifest;
using HammingDB.Writing;

namespace HammingDB.Tests.Database;

/// <summary>What Open does with damage it finds: refuse it (a typed error naming file and offset), never answer from it.</summary>
public class RecoveryTests
{
    private const string Dir = "/db";
    private static readonly string LogPath = Path.Combine(Dir, FileNames.Log(1));
    // Close leaves the memtable in the log: these tests need records in it.
    private static readonly DatabaseOptions Options = new() { BackgroundCompaction = false, SealOnClose = false };

    // A database whose log holds three single-row batches (keys 1, 2, 3), at these offsets.
    private static (MemoryFileSystem Fs, List<long> Offsets) ThreeLoggedRows()
    {
        var fs = new MemoryFileSystem();
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, Options, new MemoryKeyIndexStore()))
        {
            var items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
            for (ulong key = 1; key <= 3; key++)
            {
                items.Upsert(key, [key * 0x1111]);
            }
        }
        using IStorageFile file = fs.Open(LogPath, writable: false);
        return (fs, LogReader.Read(file).Records.Select(r => r.Offset).ToList());
    }

    [Fact]
    public void Damage_before_the_last_log_record_is_refused_and_a_damaged_last_record_is_a_torn_tail()
    {
        (MemoryFileSystem fs, List<long> offsets) = ThreeLoggedRows();
        Assert.Equal(3, offsets.Count);
        byte[] whole = fs.ReadAllBytes(LogPath);
        for (int record = 0; record < 3; record++)
        {
            foreach (int at in new[] { 0, 5, 8, 12, (int)(record < 2 ? offsets[record + 1] - offsets[record] : whole.Length - offsets[record]) - 1 })
            {
                MemoryFileSystem copy = fs.Clone();
                byte[] damaged = whole.ToArray();
                damaged[offsets[record] + at] ^= 0x04;
                copy.Replace(LogPath, damaged);
                if (record < 2)
                {
                    var e = Assert.Throws<CorruptionException>(() => HammingDatabase.Open(copy, Dir, Options, new MemoryKeyIndexStore()).Dispose());
                    Assert.Equal(LogPath, e.FilePath);
                    Assert.Equal(offsets[record], e.Offset);
                    Assert.Contains($"a whole record follows at offset {offsets[record + 1]}", e.Reason, StringComparison.Ordinal);
                    Assert.Equal(damaged, copy.ReadAllBytes(LogPath)); // nothing cut
                    continue;
                }
                using HammingDatabase db = HammingDatabase.Open(copy, Dir, Options, new MemoryKeyIndexStore());
                var items = db.GetCollection<ulong>("items");
                Assert.True(items.TryGet(1, out _) && items.TryGet(2, out _));
                Assert.False(items.TryGet(3, out _)); // the last record could be a write never acknowledged: cut off
            }
        }
    }

    [Fact]
    public void A_logged_key_its_collection_cannot_hold_is_corruption_not_an_argument_error()
    {
        (MemoryFileSystem fs, _) = ThreeLoggedRows();
        var batch = new WriteBatch(1, new CollectionShape(new CodeLayout(64), false, 0));
        batch.Upsert([1, 2, 3, 4, 5, 6, 7], [5UL], [], false, []); // 7 bytes: no ulong key
        using (IStorageFile file = fs.Open(LogPath, writable: false))
        {
            using LogWriter writer = LogWriter.Reopen(fs, LogPath, LogReader.Read(file));
            writer.Append(WriteBatch.RecordType, batch.Encode());
        }
        var e = Assert.Throws<CorruptionException>(() => HammingDatabase.Open(fs, Dir, Options, new MemoryKeyIndexStore()).Dispose());
        Assert.Equal(LogPath, e.FilePath);
        Assert.Contains("is 7 bytes", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bitmap_whose_deleted_rows_disagree_with_the_manifest_is_refused()
    {
        var fs = new MemoryFileSystem();
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, Options, new MemoryKeyIndexStore()))
        {
            var items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
            for (ulong key = 1; key <= 5; key++)
            {
                items.Upsert(key, [key]);
            }
            db.Flush();
            items.Delete(2);
            db.Flush();
        }
        ManifestState manifest = ManifestStore.Read(fs, Dir)!;
        SegmentState segment = manifest.Collections[0].Segments[0];
        Assert.Equal(1, segment.DeletedRows);
        CollectionState collection = manifest.Collections[0] with { Segments = [segment with { DeletedRows = 2 }] };
        ManifestStore.Write(fs, Dir, manifest with { Collections = [collection] });
        var e = Assert.Throws<CorruptionException>(() => HammingDatabase.Open(fs, Dir, Options, new MemoryKeyIndexStore()).Dispose());
        Assert.Equal(Path.Combine(Dir, FileNames.Deletions(segment.FileNumber, segment.DeletionVersion)), e.FilePath);
        Assert.Contains("the manifest says 2", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_index_entry_pointing_at_a_row_of_another_key_is_refused_by_reads_writes_and_replay()
    {
        var keys = new MemoryKeyIndexStore(keep: true);
        var fs = new MemoryFileSystem();
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, Options, keys))
        {
            var a = db.CreateCollection<ulong>("a", new CollectionOptions { CodeBits = 64 });
            for (ulong k = 1; k <= 8; k++)
            {
                a.Upsert(k, [k]);
            }
            db.Flush(); // segment 2: key k at row k - 1
        }
        using (IKeyIndex index = keys.Open())
        {
            index.Upsert(1, UInt64Key(4), new RowLocation(2, 5)); // row 5 holds key 6
            index.Upsert(1, UInt64Key(5), new RowLocation(2, 99)); // no row 99
        }
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, Options, keys))
        {
            var a = db.GetCollection<ulong>("a");
            Assert.True(a.TryGet(6, out _));
            var e = Assert.Throws<CorruptionException>(() => a.TryGet(4, out _));
            Assert.Equal(keys.Location, e.FilePath);
            Assert.Contains("which holds another key", e.Reason, StringComparison.Ordinal);
            Assert.Contains("which has 8 rows", Assert.Throws<CorruptionException>(() => a.TryGet(5, out _)).Reason, StringComparison.Ordinal);
            Assert.Throws<CorruptionException>(() => a.Delete(4));
            a.Upsert(7, [70]); // the delete was refused before anything was logged: the database goes on
            Assert.Throws<CorruptionException>(() => a.Upsert(4, [40]));
            Assert.Contains("stopped", Assert.Throws<StorageException>(() => a.Upsert(11, [11])).Message, StringComparison.Ordinal);
        }
        // The upsert was logged: replaying it meets the damage again. Without the index (removed), Open rebuilds it.
        Assert.Equal(keys.Location, Assert.Throws<CorruptionException>(() => HammingDatabase.Open(fs, Dir, Options, keys).Dispose()).FilePath);
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, Options, new MemoryKeyIndexStore()))
        {
            var a = db.GetCollection<ulong>("a");
            Assert.True(a.TryGet(4, out StoredRow<ulong>? row));
            Assert.Equal([40UL], row!.Code);
            Assert.True(a.TryGet(7, out row));
            Assert.Equal([70UL], row!.Code);
            Assert.False(a.TryGet(11, out _));
            Assert.Equal(8, a.Count);
        }
    }

    [Fact]
    public void A_lost_manifest_is_refused_rather_than_replaced_by_a_new_database()
    {
        foreach (bool seal in new[] { false, true })
        {
            var fs = new MemoryFileSystem();
            using (HammingDatabase db = HammingDatabase.Open(fs, Dir, Options, new MemoryKeyIndexStore()))
            {
                var a = db.CreateCollection<ulong>("a", new CollectionOptions { CodeBits = 64 });
                a.Upsert(1, [1UL]);
                if (seal)
                {
                    db.Flush();
                }
            }
            IReadOnlyList<string> before = fs.ListFiles(Dir);
            fs.Delete(Dir + "/MANIFEST");
            var e = Assert.Throws<CorruptionException>(() => HammingDatabase.Open(fs, Dir, Options, new MemoryKeyIndexStore()).Dispose());
            Assert.Contains("MANIFEST is missing", e.Reason, StringComparison.Ordinal);
            Assert.Equal(before.Where(n => n != "MANIFEST").Order(), fs.ListFiles(Dir).Order());
        }
        // A crash while a database was being created (its first log made, no MANIFEST yet) is no loss: it opens.
        var fresh = new MemoryFileSystem();
        HammingDatabase.Open(fresh, Dir, Options, new MemoryKeyIndexStore()).Dispose();
        fresh.Delete(Dir + "/MANIFEST");
        using HammingDatabase again = HammingDatabase.Open(fresh, Dir, Options, new MemoryKeyIndexStore());
        Assert.Empty(again.Collections);
    }

    private static byte[] UInt64Key(ulong key)
    {
        var bytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes, key);
        return bytes;
    }
}
