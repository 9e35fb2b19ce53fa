using HammingDB.Storage;
using HammingDB.Storage.Attachments;

namespace HammingDB.Tests.Storage;

public class AttachmentFileTests
{
    private const string Dir = "/db";

    private static string Crc(byte[] bytes, int from, int to) =>
        Convert.ToHexString(BitConverter.GetBytes(Crc32C.Compute(bytes.AsSpan(from, to - from)))).ToLowerInvariant();

    [Fact]
    public void Golden_bytes_of_an_attachment_file()
    {
        var fs = new MemoryFileSystem();
        AttachmentFile.Write(fs, Dir, 7, 3, "enc.v1", [0x01, 0x02, 0xff]);
        string path = Path.Combine(Dir, "att-0000000007.hdba");
        Assert.Equal([FileNames.Attachment(7)], fs.ListFiles(Dir));
        byte[] bytes = fs.ReadAllBytes(path);
        string expected = string.Concat(
            // magic "HDBATTCH", version 1, collection 3, 3 content bytes, 6 name bytes, reserved, header CRC
            "4844424154544348", "01000000", "03000000", "0300000000000000", "0600", "0000", Crc(bytes, 0, 28),
            // name "enc.v1", content, CRC of name + content
            "656e632e7631", "0102ff", Crc(bytes, 32, 41));
        Assert.Equal(expected, Convert.ToHexString(bytes).ToLowerInvariant());
        Assert.Equal([0x01, 0x02, 0xff], AttachmentFile.Read(fs, Dir, 7, 3, "enc.v1"));
    }

    [Fact]
    public void Every_bit_flip_and_truncation_is_corruption_naming_the_file()
    {
        var fs = new MemoryFileSystem();
        byte[] content = Enumerable.Range(0, 100).Select(i => (byte)(i * 7)).ToArray();
        AttachmentFile.Write(fs, Dir, 2, 1, "encoder", content);
        string path = Path.Combine(Dir, FileNames.Attachment(2));
        byte[] whole = fs.ReadAllBytes(path);
        for (int bit = 0; bit < whole.Length * 8; bit++)
        {
            byte[] damaged = whole.ToArray();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            fs.Replace(path, damaged);
            Assert.Equal(path, Assert.Throws<CorruptionException>(() => AttachmentFile.Read(fs, Dir, 2, 1, "encoder")).FilePath);
        }
        for (int cut = 0; cut < whole.Length; cut++)
        {
            fs.Replace(path, whole[..cut]);
            Assert.Throws<CorruptionException>(() => AttachmentFile.Read(fs, Dir, 2, 1, "encoder"));
        }
        fs.Replace(path, whole);
        Assert.Equal(content, AttachmentFile.Read(fs, Dir, 2, 1, "encoder"));
        // Whole, but not what the manifest says it is.
        Assert.Contains("holds attachment 'encoder' of collection 1", Assert.Throws<CorruptionException>(() => AttachmentFile.Read(fs, Dir, 2, 1, "other")).Message);
        Assert.Throws<CorruptionException>(() => AttachmentFile.Read(fs, Dir, 2, 9, "encoder"));
        Assert.Contains("missing", Assert.Throws<CorruptionException>(() => AttachmentFile.Read(fs, Dir, 3, 1, "encoder")).Message);
    }

    [Theory]
    [InlineData("a", true)]
    [InlineData("encoder.itq-256_v2", true)]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123", true)]
    [InlineData("01234567890123456789012345678901234567890123456789012345678901234", false)]
    [InlineData("", false)]
    [InlineData("Encoder", false)]
    [InlineData("a b", false)]
    [InlineData("a/b", false)]
    [InlineData("é", false)]
    public void Names_are_1_to_64_of_lowercase_digits_dot_underscore_dash(string name, bool allowed)
    {
        Assert.Equal(allowed, AttachmentFile.NameProblem(name) is null);
        if (!allowed)
        {
            Assert.Throws<ArgumentException>(() => AttachmentFile.Encode(1, name, []));
        }
    }

    [Fact]
    public void Empty_and_64_MiB_contents_round_trip_and_more_is_refused()
    {
        var fs = new MemoryFileSystem();
        AttachmentFile.Write(fs, Dir, 1, 1, "empty", []);
        Assert.Empty(AttachmentFile.Read(fs, Dir, 1, 1, "empty"));
        byte[] big = new byte[AttachmentFile.MaxContentBytes];
        big[^1] = 9;
        AttachmentFile.Write(fs, Dir, 2, 1, "big", big);
        Assert.Equal(9, AttachmentFile.Read(fs, Dir, 2, 1, "big")[^1]);
        Assert.Throws<ArgumentException>(() => AttachmentFile.Write(fs, Dir, 3, 1, "bigger", new byte[AttachmentFile.MaxContentBytes + 1]));
        Assert.False(fs.FileExists(Path.Combine(Dir, FileNames.Attachment(3))));
    }
}
