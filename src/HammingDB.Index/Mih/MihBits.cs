using System.Numerics;

namespace HammingDB.Index.Mih;

/// <summary>Bit ranges of packed codes (word 0 first, bit i of a code is bit i % 64 of word i / 64).</summary>
internal static class MihBits
{
    /// <summary>Bits <paramref name="start"/> .. <paramref name="start"/> + <paramref name="length"/> - 1 of <paramref name="code"/>, as an integer (1 &lt;= length &lt;= 64).</summary>
    public static ulong Extract(ReadOnlySpan<ulong> code, int start, int length)
    {
        int word = start >> 6;
        int offset = start & 63;
        ulong value = code[word] >> offset;
        if (offset + length > 64)
        {
            value |= code[word + 1] << (64 - offset);
        }
        return length == 64 ? value : value & ((1UL << length) - 1);
    }

    /// <summary>The mask of bits <paramref name="start"/> .. <paramref name="start"/> + <paramref name="length"/> - 1 inside one 64-bit word.</summary>
    public static ulong Mask(int start, int length) =>
        length >= 64 ? ulong.MaxValue : ((1UL << length) - 1) << start;

    /// <summary>Hamming distance between <paramref name="a"/> and <paramref name="b"/> on bits <paramref name="start"/> .. <paramref name="start"/> + <paramref name="length"/> - 1.</summary>
    public static int RangeDistance(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, int start, int length)
    {
        int end = start + length; // exclusive
        int firstWord = start >> 6;
        int lastWord = (end - 1) >> 6;
        int sum = 0;
        for (int w = firstWord; w <= lastWord; w++)
        {
            int lo = w == firstWord ? start & 63 : 0;
            int hi = w == lastWord ? ((end - 1) & 63) + 1 : 64;
            sum += BitOperations.PopCount((a[w] ^ b[w]) & Mask(lo, hi - lo));
        }
        return sum;
    }

    /// <summary>Hamming distance between two codes of the same length.</summary>
    public static int Distance(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        int sum = 0;
        for (int w = 0; w < a.Length; w++)
        {
            sum += BitOperations.PopCount(a[w] ^ b[w]);
        }
        return sum;
    }
}
