namespace HammingDB.Kernels.Scan;

/// <summary>
/// Picks the loop for one scan: ISA level and code width are decided here, once per block,
/// and never inside a loop.
/// </summary>
internal static class ScanDispatch
{
    public static void Scan<TSink>(IsaLevel isa, CodeBlock block, ref ulong query, ref TSink sink)
        where TSink : struct, IScanSink
    {
        int words = block.Layout.WordsPerCode;
        int count = block.Count;
        if (count == 0)
        {
            return;
        }
        ref ulong codes = ref block.WordRef(0);
        switch (isa)
        {
            case IsaLevel.Avx512Vbmi:
                ScanAvx512<VbmiLookup, TSink>(ref codes, count, words, ref query, ref sink);
                break;
            case IsaLevel.Avx512:
                ScanAvx512<NibbleLookup, TSink>(ref codes, count, words, ref query, ref sink);
                break;
            case IsaLevel.Avx2:
                switch (words)
                {
                    case 1: Avx2Kernels.Scan<W1, TSink>(ref codes, count, words, ref query, ref sink); break;
                    case 2: Avx2Kernels.Scan<W2, TSink>(ref codes, count, words, ref query, ref sink); break;
                    case 4: Avx2Kernels.Scan<W4, TSink>(ref codes, count, words, ref query, ref sink); break;
                    case 8: Avx2Kernels.Scan<W8, TSink>(ref codes, count, words, ref query, ref sink); break;
                    default: Avx2Kernels.Scan<WN, TSink>(ref codes, count, words, ref query, ref sink); break;
                }
                break;
            default:
                switch (words)
                {
                    case 1: ScalarKernels.Scan<W1, TSink>(ref codes, 0, count, words, ref query, ref sink); break;
                    case 2: ScalarKernels.Scan<W2, TSink>(ref codes, 0, count, words, ref query, ref sink); break;
                    case 4: ScalarKernels.Scan<W4, TSink>(ref codes, 0, count, words, ref query, ref sink); break;
                    case 8: ScalarKernels.Scan<W8, TSink>(ref codes, 0, count, words, ref query, ref sink); break;
                    default: ScalarKernels.Scan<WN, TSink>(ref codes, 0, count, words, ref query, ref sink); break;
                }
                break;
        }
    }

    /// <summary>Writes every code's distance to the query into <paramref name="distances"/>[row].</summary>
    public static void Distances(IsaLevel isa, CodeBlock block, ref ulong query, Span<int> distances)
    {
        int words = block.Layout.WordsPerCode;
        int count = block.Count;
        if (count == 0)
        {
            return;
        }
        ref ulong codes = ref block.WordRef(0);
        switch (isa)
        {
            case IsaLevel.Avx512Vbmi:
                DistancesAvx512<VbmiLookup>(ref codes, count, words, ref query, distances);
                break;
            case IsaLevel.Avx512:
                DistancesAvx512<NibbleLookup>(ref codes, count, words, ref query, distances);
                break;
            case IsaLevel.Avx2:
                switch (words)
                {
                    case 1: Avx2Kernels.DistancesTo<W1>(ref codes, count, words, ref query, distances); break;
                    case 2: Avx2Kernels.DistancesTo<W2>(ref codes, count, words, ref query, distances); break;
                    case 4: Avx2Kernels.DistancesTo<W4>(ref codes, count, words, ref query, distances); break;
                    case 8: Avx2Kernels.DistancesTo<W8>(ref codes, count, words, ref query, distances); break;
                    default: Avx2Kernels.DistancesTo<WN>(ref codes, count, words, ref query, distances); break;
                }
                break;
            default:
                switch (words)
                {
                    case 1: ScalarKernels.DistancesTo<W1>(ref codes, count, words, ref query, distances); break;
                    case 2: ScalarKernels.DistancesTo<W2>(ref codes, count, words, ref query, distances); break;
                    case 4: ScalarKernels.DistancesTo<W4>(ref codes, count, words, ref query, distances); break;
                    case 8: ScalarKernels.DistancesTo<W8>(ref codes, count, words, ref query, distances); break;
                    default: ScalarKernels.DistancesTo<WN>(ref codes, count, words, ref query, distances); break;
                }
                break;
        }
    }

    private static void ScanAvx512<TPop, TSink>(ref ulong codes, int count, int words, ref ulong query, ref TSink sink)
        where TPop : struct, IBytePopCount512
        where TSink : struct, IScanSink
    {
        switch (words)
        {
            case 1: Avx512Kernels<TPop>.Scan<W1, TSink>(ref codes, count, words, ref query, ref sink); break;
            case 2: Avx512Kernels<TPop>.Scan<W2, TSink>(ref codes, count, words, ref query, ref sink); break;
            case 4: Avx512Kernels<TPop>.Scan<W4, TSink>(ref codes, count, words, ref query, ref sink); break;
            case 8: Avx512Kernels<TPop>.Scan<W8, TSink>(ref codes, count, words, ref query, ref sink); break;
            case var _ when words % 8 == 0: Avx512Kernels<TPop>.Scan<W8N, TSink>(ref codes, count, words, ref query, ref sink); break;
            default: Avx512Kernels<TPop>.Scan<WN, TSink>(ref codes, count, words, ref query, ref sink); break;
        }
    }

    private static void DistancesAvx512<TPop>(ref ulong codes, int count, int words, ref ulong query, Span<int> distances)
        where TPop : struct, IBytePopCount512
    {
        switch (words)
        {
            case 1: Avx512Kernels<TPop>.DistancesTo<W1>(ref codes, count, words, ref query, distances); break;
            case 2: Avx512Kernels<TPop>.DistancesTo<W2>(ref codes, count, words, ref query, distances); break;
            case 4: Avx512Kernels<TPop>.DistancesTo<W4>(ref codes, count, words, ref query, distances); break;
            case 8: Avx512Kernels<TPop>.DistancesTo<W8>(ref codes, count, words, ref query, distances); break;
            case var _ when words % 8 == 0: Avx512Kernels<TPop>.DistancesTo<W8N>(ref codes, count, words, ref query, distances); break;
            default: Avx512Kernels<TPop>.DistancesTo<WN>(ref codes, count, words, ref query, distances); break;
        }
    }

    /// <summary>Distance of one pair through the chosen path.</summary>
    public static int Distance(IsaLevel isa, ref ulong a, ref ulong b, int words) => isa switch
    {
        IsaLevel.Avx512Vbmi => Avx512Kernels<VbmiLookup>.Distance(ref a, ref b, words),
        IsaLevel.Avx512 => Avx512Kernels<NibbleLookup>.Distance(ref a, ref b, words),
        IsaLevel.Avx2 => Avx2Kernels.Distance(ref a, ref b, words),
        _ => ScalarKernels.Distance<WN>(ref a, ref b, words),
    };
}
