using System.Text;
using HammingDB.Keys;

namespace HammingDB.Tests.Database;

public class KeyCodecTests
{
    private static int ByteOrder(byte[] a, byte[] b) => a.AsSpan().SequenceCompareTo(b);

    [Fact]
    public void UInt64_byte_order_is_numeric_order()
    {
        var random = new Random(31);
        ulong[] keys = [0, 1, 255, 256, ulong.MaxValue, ulong.MaxValue - 1, .. Enumerable.Range(0, 500).Select(_ => (ulong)random.NextInt64() * 3)];
        Assert.Equal(keys.Order(), keys.OrderBy(UInt64Codec.Encode, Comparer<byte[]>.Create(ByteOrder)));
        Assert.All(keys, k => Assert.Equal(k, UInt64Codec.Decode(UInt64Codec.Encode(k))));
    }

    [Fact]
    public void Guid_byte_order_is_the_order_of_its_canonical_text()
    {
        var random = new Random(32);
        var keys = Enumerable.Range(0, 500).Select(_ =>
        {
            var bytes = new byte[16];
            random.NextBytes(bytes);
            return new Guid(bytes);
        }).Append(Guid.Empty).ToList();
        Assert.Equal(keys.OrderBy(g => g.ToString(), StringComparer.Ordinal), keys.OrderBy(GuidCodec.Encode, Comparer<byte[]>.Create(ByteOrder)));
        Assert.All(keys, k => Assert.Equal(k, GuidCodec.Decode(GuidCodec.Encode(k))));
    }

    [Fact]
    public void String_byte_order_is_code_point_order()
    {
        // U+FF5E sorts before U+1F600 by code point, after it by UTF-16 code unit: UTF-8 bytes follow code points.
        string[] keys = ["", "a", "ab", "b", "é", "\uFF5E", "\U0001F600", "z\u0000", "Z", "日本"];
        static int ByCodePoint(string a, string b) => a.EnumerateRunes().Select(r => r.Value).SequenceCompareTo(b.EnumerateRunes().Select(r => r.Value));
        Assert.Equal(keys.Order(Comparer<string>.Create(ByCodePoint)), keys.OrderBy(StringCodec.Encode, Comparer<byte[]>.Create(ByteOrder)));
        Assert.All(keys, k => Assert.Equal(k, StringCodec.Decode(StringCodec.Encode(k))));
        Assert.Throws<ArgumentException>(() => StringCodec.Encode("\uD800"));
        Assert.Throws<ArgumentException>(() => StringCodec.Encode(new string('x', 65_536)));
        Assert.Equal(65_535, StringCodec.Encode(new string('x', 65_535)).Length);
    }
}

file static class RuneOrder
{
    public static int SequenceCompareTo(this IEnumerable<int> a, IEnumerable<int> b)
    {
        using var x = a.GetEnumerator();
        using var y = b.GetEnumerator();
        while (true)
        {
            bool hasX = x.MoveNext(), hasY = y.MoveNext();
            if (!hasX || !hasY)
            {
                return hasX.CompareTo(hasY);
            }
            int c = x.Current.CompareTo(y.Current);
            if (c != 0)
            {
                return c;
            }
        }
    }
}
