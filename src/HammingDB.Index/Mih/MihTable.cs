using HammingDB.Kernels;

namespace HammingDB.Index.Mih;

/// <summary>
/// The table of one substring: direct-address CSR over the substring's top
/// <see cref="DirectBits"/> bits. Bucket v holds postings <c>Offsets[v] .. Offsets[v + 1] - 1</c>:
/// the rows whose top bits equal v, in ascending row order. For codes of at most 64 bits each
/// posting also carries the code itself (<see cref="InlineCodes"/>), so verification reads
/// postings sequentially.
/// </summary>
public sealed class MihTable
{
    private readonly int[] _offsets;
    private readonly int[] _rows;
    private readonly ulong[]? _codes;

    private MihTable(int start, int bits, int directBits, int[] offsets, int[] rows, ulong[]? codes)
    {
        Start = start;
        Bits = bits;
        DirectBits = directBits;
        _offsets = offsets;
        _rows = rows;
        _codes = codes;
    }

    /// <summary>The first bit of the substring.</summary>
    public int Start { get; }

    /// <summary>The substring width in bits.</summary>
    public int Bits { get; }

    /// <summary>The top bits of the substring the table addresses directly (the bucket number).</summary>
    public int DirectBits { get; }

    /// <summary>The substring bits below the direct-addressed ones, filtered at probe time.</summary>
    public int FilteredBits => Bits - DirectBits;

    /// <summary>2^<see cref="DirectBits"/> + 1 offsets into the postings.</summary>
    public ReadOnlySpan<int> Offsets => _offsets;

    /// <summary>The row of each posting, sorted by bucket, then row.</summary>
    public ReadOnlySpan<int> Rows => _rows;

    /// <summary>The code of each posting for codes of at most 64 bits; empty otherwise.</summary>
    public ReadOnlySpan<ulong> InlineCodes => _codes;

    /// <summary>Whether postings carry their codes.</summary>
    public bool HasInlineCodes => _codes is not null;

    /// <summary>The bucket (top <see cref="DirectBits"/> bits of the substring) of <paramref name="code"/>.</summary>
    public int BucketOf(ReadOnlySpan<ulong> code) => (int)MihBits.Extract(code, Start + Bits - DirectBits, DirectBits);

    /// <summary>Builds the table of substring <paramref name="index"/> of <paramref name="layout"/> over rows 0 .. N-1 of <paramref name="codes"/>.</summary>
    public static MihTable Build(CodeBlock codes, MihLayout layout, int index)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (layout.CodeBits != codes.Layout.CodeBits)
        {
            throw new ArgumentException($"The layout splits {layout.CodeBits}-bit codes; the block holds {codes.Layout.CodeBits}-bit codes.", nameof(layout));
        }
        int start = layout.Start(index);
        int bits = layout.Bits(index);
        int directBits = layout.DirectBits(index);
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
        return new MihTable(start, bits, directBits, offsets, rows, inline);
    }
}
