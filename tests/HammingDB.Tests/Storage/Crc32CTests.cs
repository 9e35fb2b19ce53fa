using System.Text;
using HammingDB.Storage;

namespace HammingDB.Tests.Storage;

public class Crc32CTests
{
    [Fact]
    public void Known_vectors()
    {
        // RFC 3720 (iSCSI) B.4 and the common check value.
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void Appending_in_pieces_equals_one_pass()
    {
        byte[] data = Encoding.ASCII.GetBytes("HammingDB checksums every block it writes, in pieces or whole.");
        for (int split = 0; split <= data.Length; split++)
        {
            Assert.Equal(Crc32C.Compute(data), Crc32C.Append(Crc32C.Compute(data.AsSpan(0, split)), data.AsSpan(split)));
        }
    }
}
