namespace HammingDB.Index.Mih;

/// <summary>
/// How multi-index hashing splits a code into substrings: <see cref="Count"/> contiguous bit
/// ranges that cover bits 0 .. <see cref="CodeBits"/> - 1 of the code, as equal as possible (the
/// first <c>CodeBits % Count</c> ranges are one bit wider). A range may straddle a word boundary.
/// Each substring's table direct-addresses its top <see cref="DirectBits"/> bits and filters the
/// others at probe time.
/// </summary>
/// <remarks>
/// <see cref="Choose"/> follows DESIGN.md for codes of one word: their postings carry the code, a candidate
/// costs about a nanosecond, and buckets of about 50-200 codes measured best, so a substring has about
/// log2(N) - 6 bits. A candidate of a wider code costs a filter-word comparison and often a random read
/// of its code, so wider codes take substrings of about log2(N) bits (buckets of about one code, Norouzi's
/// rule): on c256-10m 11 tables of 23 bits answered radius 8 in 3.4 us, radius 16 in 71 us and kNN10 in
/// 0.59 ms against 41 us, 99 us and 1.8 ms with the 15 tables of 17 bits the narrow rule gives, and 13
/// tables beat 18 on c256-1m (docs/benchmarks.md). m = round(bits / substring bits).
/// </remarks>
public sealed class MihLayout
{
    /// <summary>The widest direct-addressed part of a substring, in bits (a table of 2^24 + 1 offsets).</summary>
    public const int DefaultMaxDirectBits = 24;

    private readonly int[] _starts;

    private MihLayout(int codeBits, int count, int maxDirectBits)
    {
        CodeBits = codeBits;
        Count = count;
        MaxDirectBits = maxDirectBits;
        _starts = new int[count + 1];
        int narrow = codeBits / count;
        int wide = codeBits % count;
        for (int i = 0; i < count; i++)
        {
            _starts[i + 1] = _starts[i] + narrow + (i < wide ? 1 : 0);
        }
    }

    /// <summary>The code width the layout splits.</summary>
    public int CodeBits { get; }

    /// <summary>How many substrings (tables): m.</summary>
    public int Count { get; }

    /// <summary>The most bits of a substring its table addresses directly.</summary>
    public int MaxDirectBits { get; }

    /// <summary>The first bit of substring <paramref name="index"/> (bit i of a code is bit i % 64 of word i / 64).</summary>
    public int Start(int index) => _starts[index];

    /// <summary>The width of substring <paramref name="index"/> in bits.</summary>
    public int Bits(int index) => _starts[index + 1] - _starts[index];

    /// <summary>The top bits of substring <paramref name="index"/> its table addresses directly: min(<see cref="Bits"/>, <see cref="MaxDirectBits"/>).</summary>
    public int DirectBits(int index) => Math.Min(Bits(index), MaxDirectBits);

    /// <summary>
    /// The substring width for <paramref name="rowCount"/> rows of <paramref name="codeBits"/>-bit codes: round(log2(N)) - 6
    /// (buckets of about 64 codes) for codes of one word, round(log2(N)) (buckets of about one code) for wider ones; at least 1.
    /// </summary>
    public static int ChooseSubstringBits(int rowCount, int codeBits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(codeBits, 1);
        if (rowCount <= 1)
        {
            return 1;
        }
        int log = (int)Math.Round(Math.Log2(rowCount));
        return Math.Max(1, codeBits <= 64 ? log - 6 : log);
    }

    /// <summary>The layout for <paramref name="rowCount"/> codes of <paramref name="codeBits"/> bits: m = round(bits / <see cref="ChooseSubstringBits"/>), in 1..bits.</summary>
    public static MihLayout Choose(int codeBits, int rowCount, int maxDirectBits = DefaultMaxDirectBits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(codeBits, 1);
        int substringBits = ChooseSubstringBits(rowCount, codeBits);
        int count = (int)Math.Round((double)codeBits / substringBits, MidpointRounding.AwayFromZero);
        return Split(codeBits, Math.Clamp(count, 1, codeBits), maxDirectBits);
    }

    /// <summary>Splits <paramref name="codeBits"/> bits into <paramref name="count"/> substrings as equal as possible.</summary>
    public static MihLayout Split(int codeBits, int count, int maxDirectBits = DefaultMaxDirectBits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(codeBits, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, codeBits);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDirectBits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxDirectBits, DefaultMaxDirectBits);
        return new MihLayout(codeBits, count, maxDirectBits);
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Count} substrings of {CodeBits} bits: " + string.Join(", ", Enumerable.Range(0, Count).Select(i => $"[{Start(i)}, {Start(i) + Bits(i)})"));
}
