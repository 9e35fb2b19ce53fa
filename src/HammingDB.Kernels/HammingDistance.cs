using System.Runtime.InteropServices;
using HammingDB.Kernels.Scan;

namespace HammingDB.Kernels;

/// <summary>Hamming distances: of one pair of codes, and of a block of codes to one query or to a batch.</summary>
public static class HammingDistance
{
    /// <summary>The number of bits in which <paramref name="a"/> and <paramref name="b"/> differ.</summary>
    /// <exception cref="ArgumentException">The codes have different lengths.</exception>
    public static int Compute(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, IsaLevel? isa = null)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"The codes differ in length: {a.Length} and {b.Length} words.", nameof(b));
        }
        if (a.IsEmpty)
        {
            return 0;
        }
        return ScanDispatch.Distance(Isa.Resolve(isa), ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(b), a.Length);
    }

    /// <summary>Writes the distance of every code of <paramref name="codes"/> to <paramref name="query"/> into <paramref name="distances"/>[row].</summary>
    /// <exception cref="ArgumentException">The query does not fit the layout, or <paramref name="distances"/> is too short.</exception>
    public static void ComputeAll(CodeBlock codes, ReadOnlySpan<ulong> query, Span<int> distances, IsaLevel? isa = null)
    {
        codes.Layout.Validate(query, nameof(query));
        if (distances.Length < codes.Count)
        {
            throw new ArgumentException($"{codes.Count} distances do not fit in a span of {distances.Length}.", nameof(distances));
        }
        ScanDispatch.Distances(Isa.Resolve(isa), codes, ref MemoryMarshal.GetReference(query), distances);
    }

    /// <summary>
    /// Writes the distance of code r to query q into <paramref name="distances"/>[q * codes.Count + r],
    /// walking the codes in cache-sized tiles shared by all queries.
    /// </summary>
    public static void ComputeAll(CodeBlock codes, CodeBlock queries, Span<int> distances, SearchOptions? options = null)
    {
        options ??= SearchOptions.Default;
        options.Validate();
        ExhaustiveSearch.ValidateQueries(codes, queries);
        long needed = (long)queries.Count * codes.Count;
        if (distances.Length < needed)
        {
            throw new ArgumentException($"{needed} distances do not fit in a span of {distances.Length}.", nameof(distances));
        }
        IsaLevel isa = Isa.Resolve(options.Isa);
        int tileRows = ExhaustiveSearch.TileRows(codes.Layout, options.TileBytes);
        for (int tile = 0; tile < codes.Count; tile += tileRows)
        {
            CodeBlock block = codes.Slice(tile, Math.Min(tileRows, codes.Count - tile));
            for (int j = 0; j < queries.Count; j++)
            {
                ScanDispatch.Distances(isa, block, ref queries.WordRef(j), distances.Slice(j * codes.Count + tile, block.Count));
            }
        }
    }
}
