using System.Numerics;
using System.Runtime.CompilerServices;

namespace HammingDB.Kernels.Scan;

/// <summary>
/// The reference path: one <see cref="BitOperations.PopCount(ulong)"/> per word. Every vector
/// path must return exactly what this returns.
/// </summary>
internal static class ScalarKernels
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Distance<TWidth>(ref ulong a, ref ulong b, int words)
        where TWidth : struct, IWidth
    {
        int n = TWidth.Words > 0 ? TWidth.Words : words;
        int sum = 0;
        for (int w = 0; w < n; w++)
        {
            sum += BitOperations.PopCount(Unsafe.Add(ref a, w) ^ Unsafe.Add(ref b, w));
        }
        return sum;
    }

    /// <summary>Scans rows <paramref name="start"/> .. <paramref name="count"/> - 1 of the block at <paramref name="codes"/>.</summary>
    public static void Scan<TWidth, TSink>(ref ulong codes, int start, int count, int words, ref ulong query, ref TSink sink)
        where TWidth : struct, IWidth
        where TSink : struct, IScanSink =>
        ScanPerCode<ScalarPair<TWidth>, TSink>(ref codes, start, count, TWidth.Words > 0 ? TWidth.Words : words, ref query, ref sink);

    /// <summary>
    /// Scans rows <paramref name="start"/> .. <paramref name="count"/> - 1 one code at a time with
    /// <typeparamref name="TPair"/>: the scalar path, the tails of the vector paths, and the vector
    /// paths for widths without a grouped kernel.
    /// </summary>
    public static void ScanPerCode<TPair, TSink>(ref ulong codes, int start, int count, int words, ref ulong query, ref TSink sink)
        where TPair : struct, IPairDistance
        where TSink : struct, IScanSink
    {
        int row = start;
        while (row < count)
        {
            int limit = sink.Limit;
            if (limit < 0)
            {
                return;
            }
            row = SkipMissesPerCode<TPair>(ref codes, row, count, words, ref query, limit);
            if (row == count)
            {
                return;
            }
            sink.Accept(row, TPair.Distance(ref Unsafe.Add(ref codes, (nint)row * words), ref query, words));
            row++;
        }
    }

    /// <summary>
    /// The first row from <paramref name="row"/> on within <paramref name="limit"/> of the query, or
    /// <paramref name="count"/>. No call in the loop (see the AVX-512 scan).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int SkipMissesPerCode<TPair>(ref ulong codes, int row, int count, int words, ref ulong query, int limit)
        where TPair : struct, IPairDistance
    {
        for (; row < count; row++)
        {
            if (TPair.Distance(ref Unsafe.Add(ref codes, (nint)row * words), ref query, words) <= limit)
            {
                return row;
            }
        }
        return count;
    }

    /// <summary>Writes the distance of every code of the block to <paramref name="query"/> into <paramref name="distances"/>[row].</summary>
    public static void DistancesTo<TWidth>(ref ulong codes, int count, int words, ref ulong query, Span<int> distances)
        where TWidth : struct, IWidth
    {
        int n = TWidth.Words > 0 ? TWidth.Words : words;
        for (int row = 0; row < count; row++)
        {
            distances[row] = Distance<TWidth>(ref Unsafe.Add(ref codes, (nint)row * n), ref query, n);
        }
    }

    /// <summary>
    /// Hands the rows flagged in <paramref name="mask"/> (bit j = row <paramref name="firstRow"/> + j,
    /// distance in <paramref name="lanes"/>[j]) to the sink; returns the sink's limit afterwards.
    /// Shared by the vector paths and kept out of their loops: it runs only when a row passes.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Drain<TSink>(uint mask, scoped ReadOnlySpan<ulong> lanes, int firstRow, ref TSink sink)
        where TSink : struct, IScanSink
    {
        int limit = sink.Limit;
        while (mask != 0 && limit >= 0)
        {
            int lane = BitOperations.TrailingZeroCount(mask);
            int distance = (int)lanes[lane];
            if (distance <= limit)
            {
                sink.Accept(firstRow + lane, distance);
                limit = sink.Limit;
            }
            mask &= mask - 1;
        }
        return limit;
    }
}

/// <summary>The distance of one pair of codes, as a type so scan loops compile per path.</summary>
internal interface IPairDistance
{
    static abstract int Distance(ref ulong a, ref ulong b, int words);
}

/// <summary>Scalar pair distance, unrolled for the fixed widths.</summary>
internal readonly struct ScalarPair<TWidth> : IPairDistance
    where TWidth : struct, IWidth
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Distance(ref ulong a, ref ulong b, int words) => ScalarKernels.Distance<TWidth>(ref a, ref b, words);
}
