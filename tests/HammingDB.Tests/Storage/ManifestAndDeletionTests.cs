using HammingDB.Storage;
using HammingDB.Storage.Manifest;
using HammingDB.Storage.Segments;

namespace HammingDB.Tests.Storage;

public class ManifestAndDeletionTests
{
    private const string Dir = "/db";
    private static readonly string ManifestPath = Path.Combine(Dir, FileNames.Manifest);

    private static ManifestState Sample(long version) => new(version, 12, 11,
    [
        new CollectionState(1, "default", 64, KeyKind.UInt64, true, 0, [new SegmentState(5, 1000, 2, 17)]),
        new CollectionState(2, "vectors-é", 256, KeyKind.String, false, 96, [new SegmentState(7, 3, 0, 0), new SegmentState(9, 4096, 1, 4096)])
        {
            VectorKind = VectorKind.Int8,
            Attachments = [new AttachmentState("encoder", 10), new AttachmentState("z.notes_1-2", 8)],
        },
    ]);

    private static void AssertSame(ManifestState expected, ManifestState actual)
    {
        Assert.Equal((expected.Version, expected.NextFileNumber, expected.LogNumber), (actual.Version, actual.NextFileNumber, actual.LogNumber));
        Assert.Equal(expected.Collections.Count, actual.Collections.Count);
        for (int i = 0; i < expected.Collections.Count; i++)
        {
            Assert.Equal(expected.Collections[i] with { Segments = [], Attachments = [] }, actual.Collections[i] with { Segments = [], Attachments = [] });
            Assert.Equal(expected.Collections[i].Segments, actual.Collections[i].Segments);
            Assert.Equal(expected.Collections[i].Attachments, actual.Collections[i].Attachments);
        }
    }

    private static string Crc(byte[] bytes, int from, int to) =>
        Convert.ToHexString(BitConverter.GetBytes(Crc32C.Compute(bytes.AsSpan(from, to - from)))).ToLowerInvariant();

    [Fact]
    public void Golden_bytes_of_a_manifest()
    {
        var state = new ManifestState(3, 12, 11,
        [
            new CollectionState(1, "default", 64, KeyKind.UInt64, true, 8, [new SegmentState(5, 1000, 2, 17)])
            {
                VectorKind = VectorKind.Int8,
                Attachments = [new AttachmentState("enc", 9)],
            },
        ]);
        byte[] bytes = ManifestStore.Encode(state);
        string expected = string.Concat(
            "484442" + "4d414e4946", "02000000", "00000000", "6a00000000000000", "00000000", Crc(bytes, 0, 28),
            "0300000000000000", "0c00000000000000", "0b00000000000000", "01000000",
            // id 1, "default", 64 bits, u64 keys, payloads, dimension 8, vector storage 1 (int8), 1 segment
            "01000000", "0700", "64656661756c74", "40000000", "01000000", "01000000", "08000000", "01000000", "01000000",
            "0500000000000000", "e8030000", "0200000000000000", "11000000",
            // 1 attachment: "enc" in file 9
            "01000000", "0300", "656e63", "0900000000000000",
            Crc(bytes, 32, 32 + 106));
        Assert.Equal(expected, Convert.ToHexString(bytes).ToLowerInvariant());
    }

    // The golden bytes of a version-1 manifest (what the build before version 2 wrote, pinned then): it still reads,
    // as float32 vectors and no attachments.
    [Fact]
    public void A_version_1_manifest_still_reads()
    {
        string crcHeader = "HEADERCRC", crcBody = "BODYCRC";
        string hex = string.Concat(
            "484442" + "4d414e4946", "01000000", "00000000", "5500000000000000", "00000000", crcHeader,
            "0300000000000000", "0c00000000000000", "0b00000000000000", "01000000",
            "01000000", "0700", "64656661756c74", "40000000", "01000000", "01000000", "00000000", "01000000",
            "0500000000000000", "e8030000", "0200000000000000", "11000000",
            crcBody);
        byte[] bytes = Convert.FromHexString(hex.Replace(crcHeader, "00000000", StringComparison.Ordinal).Replace(crcBody, "00000000", StringComparison.Ordinal));
        BitConverter.TryWriteBytes(bytes.AsSpan(28), Crc32C.Compute(bytes.AsSpan(0, 28)));
        BitConverter.TryWriteBytes(bytes.AsSpan(32 + 85), Crc32C.Compute(bytes.AsSpan(32, 85)));
        var fs = new MemoryFileSystem();
        ManifestStore.Write(fs, Dir, Sample(1));
        fs.Replace(ManifestPath, bytes);
        ManifestState read = ManifestStore.Read(fs, Dir)!;
        var expected = new ManifestState(3, 12, 11, [new CollectionState(1, "default", 64, KeyKind.UInt64, true, 0, [new SegmentState(5, 1000, 2, 17)])]);
        AssertSame(expected, read);
        Assert.Equal(VectorKind.Float32, read.Collections[0].VectorKind);
        Assert.Empty(read.Collections[0].Attachments);
        // Written again, it becomes version 2.
        Assert.Equal(2u, BitConverter.ToUInt32(ManifestStore.Encode(read), 8));
    }

    [Fact]
    public void A_manifest_round_trips_and_a_new_database_has_none()
    {
        var fs = new MemoryFileSystem();
        Assert.Null(ManifestStore.Read(fs, Dir));
        ManifestStore.Write(fs, Dir, Sample(1));
        AssertSame(Sample(1), ManifestStore.Read(fs, Dir)!);
        ManifestStore.Write(fs, Dir, Sample(2));
        AssertSame(Sample(2), ManifestStore.Read(fs, Dir)!);
        Assert.Equal([FileNames.Manifest], fs.ListFiles(Dir));
    }

    [Fact]
    public void Every_bit_flip_and_truncation_of_a_manifest_is_corruption()
    {
        var fs = new MemoryFileSystem();
        ManifestStore.Write(fs, Dir, Sample(1));
        byte[] whole = fs.ReadAllBytes(ManifestPath);
        for (int bit = 0; bit < whole.Length * 8; bit++)
        {
            byte[] damaged = whole.ToArray();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            fs.Replace(ManifestPath, damaged);
            Assert.Equal(ManifestPath, Assert.Throws<CorruptionException>(() => ManifestStore.Read(fs, Dir)).FilePath);
        }
        for (int cut = 0; cut < whole.Length; cut++)
        {
            fs.Replace(ManifestPath, whole[..cut]);
            Assert.Throws<CorruptionException>(() => ManifestStore.Read(fs, Dir));
        }
    }

    [Theory]
    [InlineData("create")]
    [InlineData("write")]
    [InlineData("sync")]
    [InlineData("rename")]
    [InlineData("syncdir")]
    public void A_crash_at_any_step_of_a_switch_leaves_the_old_or_the_new_manifest(string step)
    {
        var fs = new MemoryFileSystem();
        ManifestStore.Write(fs, Dir, Sample(1));
        fs.FailOn(step, 1);
        bool switched = true;
        try
        {
            ManifestStore.Write(fs, Dir, Sample(2));
        }
        catch (StorageException)
        {
            switched = false;
        }
        fs.Crash();
        ManifestState after = ManifestStore.Read(fs, Dir)!;
        Assert.True(after.Version is 1 or 2);
        if (switched)
        {
            Assert.Equal(2, after.Version);
        }
        AssertSame(Sample(after.Version), after);
    }

    [Fact]
    public void Golden_bytes_of_a_deletion_bitmap()
    {
        var bitmap = new DeletionBitmap(10);
        Assert.True(bitmap.Delete(0));
        Assert.True(bitmap.Delete(9));
        Assert.False(bitmap.Delete(9));
        byte[] bytes = bitmap.Encode();
        string expected = string.Concat(
            "48444244454c424d", "01000000", "00000000", "0a00000000000000", "02000000", Crc(bytes, 0, 28),
            "0102", Crc(bytes, 32, 34));
        Assert.Equal(expected, Convert.ToHexString(bytes).ToLowerInvariant());
    }

    [Fact]
    public void Deletion_bitmaps_round_trip_and_every_damage_is_caught()
    {
        var fs = new MemoryFileSystem();
        var bitmap = new DeletionBitmap(1000);
        var random = new Random(21);
        var deleted = new HashSet<int>();
        for (int i = 0; i < 300; i++)
        {
            int row = random.Next(1000);
            Assert.Equal(deleted.Add(row), bitmap.Delete(row));
        }
        bitmap.Write(fs, Dir, 5, 3);
        DeletionBitmap read = DeletionBitmap.Read(fs, Dir, 5, 3, 1000);
        Assert.Equal(deleted.Count, read.DeletedRows);
        Assert.All(Enumerable.Range(0, 1000), row => Assert.Equal(deleted.Contains(row), read.IsDeleted(row)));

        var small = new DeletionBitmap(13);
        small.Delete(12);
        byte[] whole = small.Encode();
        for (int bit = 0; bit < whole.Length * 8; bit++)
        {
            byte[] damaged = whole.ToArray();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<CorruptionException>(() => DeletionBitmap.Decode(damaged, 13, "/db/x.hdbd"));
        }
        Assert.Throws<CorruptionException>(() => DeletionBitmap.Decode(whole, 14, "/db/x.hdbd"));
        Assert.Throws<CorruptionException>(() => DeletionBitmap.Decode(whole.AsSpan(0, whole.Length - 1), 13, "/db/x.hdbd"));
    }

    [Fact]
    public void File_names_of_segments_and_deletions_round_trip()
    {
        Assert.True(FileNames.TryParseSegment(FileNames.Segment(77), out long segment));
        Assert.Equal(77, segment);
        Assert.True(FileNames.TryParseDeletions(FileNames.Deletions(77, 5), out long owner, out long version));
        Assert.Equal((77L, 5L), (owner, version));
        Assert.Equal("del-0000000077-000005.hdbd", FileNames.Deletions(77, 5));
        Assert.False(FileNames.TryParseSegment(FileNames.Log(77), out _));
        Assert.False(FileNames.TryParseDeletions(FileNames.Segment(77), out _, out _));
        Assert.Equal("att-0000000077.hdba", FileNames.Attachment(77));
        Assert.True(FileNames.TryParseAttachment(FileNames.Attachment(77), out long attachment));
        Assert.Equal(77, attachment);
        Assert.False(FileNames.TryParseAttachment(FileNames.Segment(77), out _));
        Assert.True(FileNames.IsDataFile(FileNames.Attachment(77)));
        Assert.True(FileNames.IsDataFile(FileNames.Temp(FileNames.Attachment(77))));
    }
}
