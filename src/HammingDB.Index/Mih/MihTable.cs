using HammingDB.Kernels;

namespace HammingDB.Index.Mih;

/// <summary>What the 64-bit word stored beside each posting of a <see cref="MihTable"/> holds.</summary>
public enum MihPostingWords
{
    /// <summary>No word: postings are row numbers only.</summary>
    None = 0,

    /// <summary>The posting's whole code (codes of at most 64 bits): verification reads postings sequentially.</summary>
    Codes = 1,

    /// <summary>
    /// The posting's filter word (codes over 64 bits): the <see cref="MihTable.FilterBitsOf"/> code bits that follow
    /// the substring, wrapping round the code (<see cref="MihTable.FilterWordOf"/>), so the substring distance plus
    /// the filter words' distance bounds the code's distance from below without reading the code.
    /// </summary>
    FilterWords = 2,
}

/// <summary>
/// The table of one substring: direct-address CSR over the substring's top
/// <see cref="DirectBits"/> bits. Bucket v holds postings <c>Offsets[v] .. Offsets[v + 1] - 1</c>:
/// the rows whose top bits equal v, in ascending row order. For codes of at most 64 bits each
/// posting also carries the code itself (<see cref="InlineCodes"/>), so verification reads
/// postings sequentially; for wider codes a posting may carry a filter word (<see cref="FilterWords"/>)
/// that rejects most candidates before their code is read. The arrays live in managed memory
/// (built) or in a mapped segment file.
/// </summary>
public sealed class MihTable
{
    private readonly ReadOnlyMemory<int> _offsets;
    private readonly ReadOnlyMemory<int> _rows;
    private readonly ReadOnlyMemory<ulong> _words;

    private MihTable(int start, int bits, int directBits, ReadOnlyMemory<int> offsets, ReadOnlyMemory<int> rows, ReadOnlyMemory<ulong> words, MihPostingWords kind)
    {
        Start = start;
        Bits = bits;
        DirectBits = directBits;
        _offsets = offsets;
        _rows = rows;
        _words = words;
        PostingWords = kind;
    }

    /// <summary>The first bit of the substring.</summary>
    public int Start { get; }

    /// <summary>The substring width in bits.</summary>
    public int Bits { get; }

    /// <summary>The top bits of the substring the table addresses directly (the bucket number).</summary>
    public int DirectBits { get; }

    /// <summary>The substring bits below the direct-addressed ones, filtered at probe time.</summary>
    public int FilteredBits => Bits - DirectBits;

    /// <summary>How many postings (rows) the table holds.</summary>
    public int Count => _rows.Length;

    /// <summary>2^<see cref="DirectBits"/> + 1 offsets into the postings.</summary>
    public ReadOnlySpan<int> Offsets => _offsets.Span;

    /// <summary>The row of each posting, sorted by bucket, then row.</summary>
    public ReadOnlySpan<int> Rows => _rows.Span;

    /// <summary>What the word beside each posting holds.</summary>
    public MihPostingWords PostingWords { get; }

    /// <summary>The code of each posting for codes of at most 64 bits; empty otherwise.</summary>
    public ReadOnlySpan<ulong> InlineCodes => PostingWords == MihPostingWords.Codes ? _words.Span : default;

    /// <summary>The filter word of each posting (<see cref="FilterWordOf"/>) when the table has them; empty otherwise.</summary>
    public ReadOnlySpan<ulong> FilterWords => PostingWords == MihPostingWords.FilterWords ? _words.Span : default;

    /// <summary>Whether postings carry their codes.</summary>
    public bool HasInlineCodes => PostingWords == MihPostingWords.Codes;

    /// <summary>Whether postings carry filter words.</summary>
    public bool HasFilterWords => PostingWords == MihPostingWords.FilterWords;

    /// <summary>The bytes of the table's arrays.</summary>
    public long Bytes => (4L * _offsets.Length) + (4L * _rows.Length) + (8L * _words.Length);

    /// <summary>The bucket (top <see cref="DirectBits"/> bits of the substring) of <paramref name="code"/>.</summary>
    public int BucketOf(ReadOnlySpan<ulong> code) => (int)MihBits.Extract(code, Start + Bits - DirectBits, DirectBits);

    /// <summary>
    /// How many code bits the filter word of a substring of <paramref name="bits"/> bits of a <paramref name="codeBits"/>-bit
    /// code holds: min(64, codeBits - bits), so the window never overlaps the substring (fewer than 64 for codes under
    /// bits + 64 bits, e.g. 65..127-bit codes; 0 when the substring is the whole code).
    /// </summary>
    public static int FilterBitsOf(int codeBits, int bits) => Math.Min(64, codeBits - bits);

    /// <summary>
    /// The filter word of <paramref name="code"/> (<paramref name="codeBits"/> bits) for the substring
    /// [<paramref name="start"/>, <paramref name="start"/> + <paramref name="bits"/>): bit i (i &lt; <see cref="FilterBitsOf"/>)
    /// is code bit (start + bits + i) mod codeBits, the higher bits are 0. Its bits lie outside the substring, so for any
    /// two codes substring distance + popcount(filter ^ filter') &lt;= their Hamming distance.
    /// </summary>
    public static ulong FilterWordOf(ReadOnlySpan<ulong> code, int codeBits, int start, int bits)
    {
        int length = FilterBitsOf(codeBits, bits);
        if (length <= 0)
        {
            return 0;
        }
        int from = (start + bits) % codeBits;
        int first = Math.Min(length, codeBits - from); // before the wrap
        ulong word = MihBits.Extract(code, from, first);
        if (first < length)
        {
            word |= MihBits.Extract(code, 0, length - first) << first;
        }
        return word;
    }

    /// <summary>
    /// Wraps arrays built before (by <see cref="Build(CodeBlock, MihLayout, int)"/>, then stored): checks their shapes, not their
    /// contents (a stored table is protected by its file's checksums). With <c>inlineCodes</c>, <c>codes</c>
    /// holds the code of each posting (<c>rowCount</c> entries), else it is empty.
    /// </summary>
    /// <exception cref="ArgumentException">The arrays do not have the shape of a table of <paramref name="rowCount"/> rows.</exception>
    public static MihTable Wrap(int start, int bits, int directBits, int rowCount, ReadOnlyMemory<int> offsets, ReadOnlyMemory<int> rows, ReadOnlyMemory<ulong> codes, bool inlineCodes) =>
        Wrap(start, bits, directBits, rowCount, offsets, rows, codes, inlineCodes ? MihPostingWords.Codes : MihPostingWords.None);

    /// <summary>
    /// Wraps arrays built before (by <see cref="Build(CodeBlock, MihLayout, int, bool)"/>, then stored): checks their shapes
    /// and every value a search indexes with (offsets from 0 to the row count, never decreasing; rows within the row count),
    /// so that even a table whose checksums pass but whose contents were crafted cannot make a search read out of range.
    /// Which bucket a row is in, and its inline word, are not checked (a stored table is protected by its file's checksums). <paramref name="words"/> holds one word per
    /// posting (<paramref name="rowCount"/> entries) of the kind <paramref name="kind"/> says, or is empty for <see cref="MihPostingWords.None"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The arrays do not have the shape of a table of <paramref name="rowCount"/> rows.</exception>
    public static MihTable Wrap(int start, int bits, int directBits, int rowCount, ReadOnlyMemory<int> offsets, ReadOnlyMemory<int> rows, ReadOnlyMemory<ulong> words, MihPostingWords kind)
    {
        if (start < 0 || bits is < 1 or > 64 || directBits < 1 || directBits > Math.Min(bits, MihLayout.DefaultMaxDirectBits))
        {
            throw new ArgumentException($"A table of bits [{start}, {start + bits}) addressing {directBits} of them is impossible.");
        }
        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentException($"Posting words of kind {kind} are unknown.", nameof(kind));
        }
        if (offsets.Length != (1 << directBits) + 1 || rows.Length != rowCount || words.Length != (kind == MihPostingWords.None ? 0 : rowCount))
        {
            throw new ArgumentException($"A table of {rowCount} rows with {directBits} direct bits needs {(1 << directBits) + 1} offsets and {rowCount} postings; got {offsets.Length}, {rows.Length} and {words.Length} words ({kind}).");
        }
        ReadOnlySpan<int> o = offsets.Span;
        if (o[0] != 0 || o[^1] != rowCount)
        {
            throw new ArgumentException($"A table's offsets must run from 0 to {rowCount}; they run from {o[0]} to {o[^1]}.");
        }
        for (int i = 1; i < o.Length; i++)
        {
            if (o[i] < o[i - 1])
            {
                throw new ArgumentException($"A table's offsets must never decrease; offset {i} is {o[i]}, after {o[i - 1]}.");
            }
        }
        if (rowCount > 0 && rows.Span.ContainsAnyExceptInRange(0, rowCount - 1))
        {
            int at = rows.Span.IndexOfAnyExceptInRange(0, rowCount - 1);
            throw new ArgumentException($"A table's postings must name rows 0 .. {rowCount - 1}; posting {at} names row {rows.Span[at]}.");
        }
        return new MihTable(start, bits, directBits, offsets, rows, words, kind);
    }

    /// <summary>Builds the table of substring <paramref name="index"/> of <paramref name="layout"/> over rows 0 .. N-1 of <paramref name="codes"/>, without filter words.</summary>
    public static MihTable Build(CodeBlock codes, MihLayout layout, int index) => Build(codes, layout, index, filterWords: false);

    /// <summary>
    /// Builds the table of substring <paramref name="index"/> of <paramref name="layout"/> over rows 0 .. N-1 of <paramref name="codes"/>;
    /// codes of one word are inline, wider codes carry filter words when <paramref name="filterWords"/>.
    /// </summary>
    public static MihTable Build(CodeBlock codes, MihLayout layout, int index, bool filterWords)
    {
        (int[] offsets, int[] rows, ulong[]? inline, ulong[]? filters) = BuildArrays(codes, layout, index, filterWords);
        MihPostingWords kind = inline is not null ? MihPostingWords.Codes : filters is not null ? MihPostingWords.FilterWords : MihPostingWords.None;
        return new MihTable(layout.Start(index), layout.Bits(index), layout.DirectBits(index), offsets, rows, inline ?? filters ?? [], kind);
    }

    /// <summary>
    /// The arrays of the table <see cref="Build(CodeBlock, MihLayout, int, bool)"/> makes, e.g. to store them: codes inline
    /// only for codes of one word, filter words only for wider codes and when <paramref name="filterWords"/>. Linear: two passes over the rows.
    /// </summary>
    internal static (int[] Offsets, int[] Rows, ulong[]? Codes, ulong[]? FilterWords) BuildArrays(CodeBlock codes, MihLayout layout, int index, bool filterWords)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (layout.CodeBits != codes.Layout.CodeBits)
        {
            throw new ArgumentException($"The layout splits {layout.CodeBits}-bit codes; the block holds {codes.Layout.CodeBits}-bit codes.", nameof(layout));
        }
        int directBits = layout.DirectBits(index);
        int start = layout.Start(index);
        int bits = layout.Bits(index);
        int topStart = start + bits - directBits;
        int n = codes.Count;
        int[] offsets = new int[(1 << directBits) + 1];
        int[] buckets = new int[n];
        for (int row = 0; row < n; row++)
        {
            int bucket = (int)MihBits.Extract(codes[row], topStart, directBits);
            buckets[row] = bucket;
            offsets[bucket + 1]++;
        }
        for (int b = 1; b < offsets.Length; b++)
        {
            offsets[b] += offsets[b - 1];
        }
        int[] next = offsets.AsSpan(0, offsets.Length - 1).ToArray();
        int[] rows = new int[n];
        bool oneWord = codes.Layout.WordsPerCode == 1;
        ulong[]? inline = oneWord ? new ulong[n] : null;
        ulong[]? filters = !oneWord && filterWords ? new ulong[n] : null;
        int codeBits = layout.CodeBits;
        for (int row = 0; row < n; row++)
        {
            int slot = next[buckets[row]]++;
            rows[slot] = row;
            if (inline is not null)
            {
                inline[slot] = codes[row][0];
            }
            else if (filters is not null)
            {
                filters[slot] = FilterWordOf(codes[row], codeBits, start, bits);
            }
        }
        return (offsets, rows, inline, filters);
    }
}
