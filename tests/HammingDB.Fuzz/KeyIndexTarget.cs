using System.Buffers.Binary;
using HammingDB.Storage;
using HammingDB.Storage.Keys;
using HammingDB.Storage.Manifest;

namespace HammingDB.Fuzz;

/// <summary>
/// The key index as HammingDB reads it. HammingDB parses none of FASTER's files itself: FASTER
/// recovers its checkpoint, hash index and log through its own devices, outside the file-system seam.
/// What HammingDB reads from it are entries, (collection, encoded key) -> (segment, row), and the
/// checkpoint version; FASTER's pages carry no checksum of ours, so those are untrusted. The fuzz bytes
/// are such entries (per entry: u8 collection, u8 key length mod 17, the key, u32 segment, i32 row;
/// the first byte's low bit: a stale checkpoint version), loaded into an in-memory key index beside a
/// small real database; then the database is opened, every key is looked up, and check runs.
/// </summary>
internal static class KeyIndexTarget
{
    private const string Dir = "/db";
    private static readonly DatabaseOptions Options = new() { BackgroundCompaction = false, SealOnClose = false };
    private static readonly Lazy<(MemoryFileSystem Fs, long Version)> Base = new(Build);

    // Collection "a" (u64 keys, 64-bit codes, payloads): keys 1..40 in segment 2, 5..10 deleted and 7 written again in a
    // second segment, 41..44 left in the log; collection "b" (string keys).
    private static (MemoryFileSystem, long) Build()
    {
        var fs = new MemoryFileSystem();
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, Options, new MemoryKeyIndexStore()))
        {
            var a = db.CreateCollection<ulong>("a", new CollectionOptions { CodeBits = 64, Payloads = true });
            var b = db.CreateCollection<string>("b", new CollectionOptions { CodeBits = 64 });
            for (ulong k = 1; k <= 40; k++)
            {
                a.Upsert(k, [k * 0x9E3779B97F4A7C15UL], [(byte)k]);
            }
            b.Upsert("x", [1]);
            db.Flush();
            for (ulong k = 5; k <= 10; k++)
            {
                a.Delete(k);
            }
            a.Upsert(7, [7], [7]);
            db.Flush();
            for (ulong k = 41; k <= 44; k++)
            {
                a.Upsert(k, [k], [1]);
            }
        }
        return (fs, ManifestStore.Read(fs, Dir)!.Version);
    }

    public static void Run(byte[] bytes)
    {
        (MemoryFileSystem baseFs, long version) = Base.Value;
        MemoryFileSystem fs = baseFs.Clone();
        var store = new MemoryKeyIndexStore(keep: true);
        var probes = new List<ulong>();
        using (IKeyIndex index = store.CreateEmpty())
        {
            int at = 1;
            while (at + 2 <= bytes.Length)
            {
                uint collection = 1 + (uint)(bytes[at] % 3);
                int keyLength = bytes[at + 1] % 17;
                at += 2;
                if (at + keyLength + 8 > bytes.Length)
                {
                    break;
                }
                ReadOnlySpan<byte> key = bytes.AsSpan(at, keyLength);
                if (keyLength == 8)
                {
                    probes.Add(BinaryPrimitives.ReadUInt64BigEndian(key));
                }
                var location = new RowLocation(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + keyLength)), BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at + keyLength + 4)));
                index.Upsert(collection, key, location);
                at += keyLength + 8;
            }
            bool stale = bytes.Length > 0 && (bytes[0] & 1) != 0;
            index.Checkpoint(stale ? version - 1 : version);
        }
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, Options, store))
        {
            var a = db.GetCollection<ulong>("a");
            for (ulong k = 0; k <= 45; k++)
            {
                a.TryGet(k, out _);
            }
            foreach (ulong k in probes)
            {
                a.TryGet(k, out _);
            }
            db.GetCollection<string>("b").TryGet("x", out _);
        }
        HammingDatabase.Check(fs, Dir, store);
    }
}
