using HammingDB.Kernels;

namespace HammingDB.Index.Mih;

/// <summary>
/// The table of one substring: direct-address CSR over the substring's top
/// <see cref="DirectBits"/> bits. Bucket v holds postings <c>Offsets[v] .. Offsets[v + 1] - 1</c>:
/// the rows whose top bits equal v, in ascending row order. For codes of at most 64 bits each
/// posting also carries the code itself (<see cref="InlineCodes"/>), so verification reads
/// postings sequentially. The arrays live in managed memory (built) or in a mapped segment file.
/// </summary>
public sealed class MihTable
{
    private readonly ReadOnlyMemory<int> _offsets;
    private readonly ReadOnlyMemory<int> _rows;
    private readonly ReadOnlyMemory<ulong> _codes;

    private MihTable(int start, int bits, int directBits, ReadOnlyMemory<int> offsets, ReadOnlyMemory<int> rows, ReadOnlyMemory<ulong> codes, bool inline)
    {
        Start = start;
        Bits = bits;
        DirectBits = directBits;
        _offsets = offsets;
        _rows = rows;
        _codes = codes;
        HasInlineCodes = inline;
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

    /// <summary>The code of each posting for codes of at most 64 bits; empty otherwise.</summary>
    public ReadOnlySpan<ulong> InlineCodes => _codes.Span;

    /// <summary>Whether postings carry their codes.</summary>
    public bool HasInlineCodes { get; }

    /// <summary>The bytes of the table's arrays.</summary>
    public long Bytes => (4L * _offsets.Length) + (4L * _rows.Length) + (8L * _codes.Length);

    /// <summary>The bucket (top <see cref="DirectBits"/> bits of the substring) of <paramref name="code"/>.</summary>
    public int BucketOf(ReadOnlySpan<ulong> code) => (int)MihBits.Extract(code, Start + Bits - DirectBits, DirectBits);

    /// <summary>
    /// Wraps arrays built before (by <see cref="Build"/>, then stored): checks their shapes, not their
    /// contents (a stored table is protected by its file's checksums). With <c>inlineCodes</c>, <c>codes</c>
    /// holds the code of each posting (<c>rowCount</c> entries), else it is empty.
    /// </summary>
    /// <exception cref="ArgumentException">The arrays do not have the shape of a table of <paramref name="rowCount"/> rows.</exception>
    public static MihTable Wrap(int start, int bits, int directBits, int rowCount, ReadOnlyMemory<int> offsets, ReadOnlyMemory<int> rows, ReadOnlyMemory<ulong> codes, bool inlineCodes)
    {
        if (start < 0 || bits is < 1 or > 64 || directBits < 1 || directBits > Math.Min(bits, MihLayout.DefaultMaxDirectBits))
        {
            throw new ArgumentException($"A table of bits [{start}, {start + bits}) addressing {directBits} of them is impossible.");
        }
        if (offsets.Length != (1 << directBits) + 1 || rows.Length != rowCount || codes.Length != (inlineCodes ? rowCount : 0))
        {
            throw new ArgumentException($"A table of {rowCount} rows with {directBits} direct bits needs {(1 << directBits) + 1} offsets and {rowCount} postings; got {offsets.Length}, {rows.Length} and {codes.Length} codes.");
        }
        ReadOnlySpan<int> o = offsets.Span;
        if (o[0] != 0 || o[^1] != rowCount)
        {
            throw new ArgumentException($"A table's offsets must run from 0 to {rowCount}; they run from {o[0]} to {o[^1]}.");
        }
        return new MihTable(start, bits, directBits, offsets, rows, codes, inlineCodes);
    }

    /// <summary>Builds the table of substring <paramref name="index"/> of <paramref name="layout"/> over rows 0 .. N-1 of <paramref name="codes"/>.</summary>
    public static MihTable Build(CodeBlock codes, MihLayout layout, int index)
    {
        (int[] offsets, int[] rows, ulong[]? inline) = BuildArrays(codes, layout, index);
        return new MihTable(layout.Start(index), layout.Bits(index), layout.DirectBits(index), offsets, rows, inline ?? [], inline is not null);
    }

    /// <summary>The arrays of the table <see cref="Build"/> makes (codes inline only for codes of one word), e.g. to store them.</summary>
    internal static (int[] Offsets, int[] Rows, ulong[]? Codes) BuildArrays(CodeBlock codes, MihLayout layout, int index)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (layout.CodeBits != codes.Layout.CodeBits)
        {
            throw new ArgumentException($"The layout splits {layout.CodeBits}-bit codes; the block holds {codes.Layout.CodeBits}-bit codes.", nameof(layout));
        }
        int directBits = layout.DirectBits(index);
        int topStart = layout.Start(index) + layout.Bits(index) - directBits;
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
        ulong[]? inline = codes.Layout.WordsPerCode == 1 ? new ulong[n] : null;
        for (int row = 0; row < n; row++)
        {
            int slot = next[buckets[row]]++;
            rows[slot] = row;
            if (inline is not null)
            {
                inline[slot] = codes[row][0];
            }
        }
        return (offsets, rows, inline);
    }
}
