using HammingDB.Storage;
using HammingDB.Storage.Keys;
using HammingDB.Storage.Manifest;

namespace HammingDB.Tests.Faults;

/// <summary>Engine defects found by <see cref="FaultInjectionTests"/>, each pinned by the smallest script that showed it.</summary>
public class FaultRegressionTests
{
    private const string Dir = "/db";

    // Found by the seal workload (fail-once EIO on the directory sync of a seal's manifest switch, then a
    // process kill): the seal threw but the database went on writing to the old log while the disk named
    // the new one, so the next open removed the old log with acknowledged writes in it.
    [Fact]
    public void A_seal_whose_manifest_switch_fails_stops_the_writer_and_loses_no_acknowledged_write()
    {
        var fs = new MemoryFileSystem();
        var options = new DatabaseOptions { BackgroundCompaction = false, SealOnClose = false };
        HammingDatabase db = HammingDatabase.Open(fs, Dir, options, new MemoryKeyIndexStore());
        HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
        var acknowledged = new Dictionary<ulong, ulong>();
        for (ulong key = 1; key <= 5; key++)
        {
            items.Upsert(key, [key * 3]);
            acknowledged[key] = key * 3;
        }
        // A seal syncs the directory three times: after the segment, the new log, and the manifest's rename.
        fs.FailOn("syncdir", 3);
        Assert.Throws<StorageException>(db.Flush);
        Assert.Equal("syncdir", Assert.Single(fs.Fired).Kind);
        Assert.NotEqual(1, ManifestStore.Read(fs, Dir)!.LogNumber); // the rename happened: the disk names the new log
        try
        {
            items.Upsert(6, [18UL]);
            acknowledged[6] = 18;
        }
        catch (StorageException)
        {
        }
        Assert.False(acknowledged.ContainsKey(6), "a write was acknowledged after a failed manifest switch");

        // The process is killed: everything written is kept, the next open follows the disk's manifest.
        MemoryFileSystem killed = fs.Clone();
        db.Dispose();
        using HammingDatabase reopened = HammingDatabase.Open(killed, Dir, options, new MemoryKeyIndexStore());
        HammingCollection<ulong> after = reopened.GetCollection<ulong>("items");
        foreach ((ulong key, ulong code) in acknowledged)
        {
            Assert.True(after.TryGet(key, out StoredRow<ulong>? row) && row!.Code[0] == code, $"acknowledged key {key} lost");
        }
    }
}
