using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HammingDB.Kernels.Scan;

/// <summary>
/// AVX2 path: the nibble-table popcount of the AVX-512 path (<see cref="NibbleLookup"/>) on 256-bit vectors. A group
/// of eight codes is two vectors of four distances.
/// </summary>
internal static class Avx2Kernels
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> NibbleTable()
    {
        Vector128<byte> table = Vector128.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
        return Vector256.Create(table, table);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> BytePopCount(Vector256<ulong> x, Vector256<byte> table, Vector256<byte> lowNibbles)
    {
        Vector256<byte> low = x.AsByte() & lowNibbles;
        Vector256<byte> high = Vector256.ShiftRightLogical(x.AsUInt16(), 4).AsByte() & lowNibbles;
        return Avx2.Shuffle(table, low) + Avx2.Shuffle(table, high);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> SumLanes(Vector256<byte> counts) =>
        Avx2.SumAbsoluteDifferences(counts, Vector256<byte>.Zero).AsUInt64();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> AddPairs(Vector256<byte> a, Vector256<byte> b) =>
        Avx2.UnpackLow(a.AsUInt64(), b.AsUInt64()).AsByte() + Avx2.UnpackHigh(a.AsUInt64(), b.AsUInt64()).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> AddHalves(Vector256<byte> a, Vector256<byte> b) =>
        Avx2.Permute2x128(a, b, 0x20) + Avx2.Permute2x128(a, b, 0x31);

    /// <summary>Distance of one pair of codes of any width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Distance(ref ulong a, ref ulong b, int words)
    {
        Vector256<byte> table = NibbleTable();
        Vector256<byte> nib = Vector256.Create((byte)0x0F);
        int w = 0;
        ulong sum = 0;
        if (words >= 4)
        {
            // Sum per vector: 32 vectors of 8 per byte would overflow a byte at 8192 bits.
            Vector256<ulong> lanes = Vector256<ulong>.Zero;
            for (; w + 4 <= words; w += 4)
            {
                lanes += SumLanes(BytePopCount(Vector256.LoadUnsafe(ref a, (nuint)w) ^ Vector256.LoadUnsafe(ref b, (nuint)w), table, nib));
            }
            sum = Vector256.Sum(lanes);
        }
        for (; w < words; w++)
        {
            sum += (ulong)BitOperations.PopCount(Unsafe.Add(ref a, w) ^ Unsafe.Add(ref b, w));
        }
        return (int)sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<ulong> Low, Vector256<ulong> High) QueryPattern<TWidth>(ref ulong query)
        where TWidth : struct, IWidth
    {
        if (TWidth.Words == 1)
        {
            Vector256<ulong> q = Vector256.Create(query);
            return (q, q);
        }
        if (TWidth.Words == 2)
        {
            Vector128<ulong> q = Vector128.LoadUnsafe(ref query);
            Vector256<ulong> twice = Vector256.Create(q, q);
            return (twice, twice);
        }
        if (TWidth.Words == 4)
        {
            Vector256<ulong> q = Vector256.LoadUnsafe(ref query);
            return (q, q);
        }
        return (Vector256.LoadUnsafe(ref query), Vector256.LoadUnsafe(ref query, 4));
    }

    /// <summary>Distances of the four codes at <paramref name="p"/>, in code order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Distances4<TWidth>(ref ulong p, Vector256<ulong> q0, Vector256<ulong> q1, Vector256<byte> table, Vector256<byte> nib)
        where TWidth : struct, IWidth
    {
        if (TWidth.Words == 1)
        {
            return SumLanes(BytePopCount(Vector256.LoadUnsafe(ref p) ^ q0, table, nib));
        }
        if (TWidth.Words == 2)
        {
            // a: codes 0-1, b: codes 2-3; pair sums come out as codes 0,2,1,3.
            Vector256<byte> a = BytePopCount(Vector256.LoadUnsafe(ref p) ^ q0, table, nib);
            Vector256<byte> b = BytePopCount(Vector256.LoadUnsafe(ref p, 4) ^ q0, table, nib);
            return Avx2.Permute4x64(SumLanes(AddPairs(a, b)), 0b11_01_10_00);
        }
        if (TWidth.Words == 4)
        {
            Vector256<byte> a = BytePopCount(Vector256.LoadUnsafe(ref p) ^ q0, table, nib);
            Vector256<byte> b = BytePopCount(Vector256.LoadUnsafe(ref p, 4) ^ q0, table, nib);
            Vector256<byte> c = BytePopCount(Vector256.LoadUnsafe(ref p, 8) ^ q0, table, nib);
            Vector256<byte> d = BytePopCount(Vector256.LoadUnsafe(ref p, 12) ^ q0, table, nib);
            return SumLanes(AddHalves(AddPairs(a, b), AddPairs(c, d)));
        }
        if (TWidth.Words == 8)
        {
            // Each code is two vectors: add their byte counts first, then reduce as for 256 bits.
            Vector256<byte> a = BytePopCount(Vector256.LoadUnsafe(ref p) ^ q0, table, nib) + BytePopCount(Vector256.LoadUnsafe(ref p, 4) ^ q1, table, nib);
            Vector256<byte> b = BytePopCount(Vector256.LoadUnsafe(ref p, 8) ^ q0, table, nib) + BytePopCount(Vector256.LoadUnsafe(ref p, 12) ^ q1, table, nib);
            Vector256<byte> c = BytePopCount(Vector256.LoadUnsafe(ref p, 16) ^ q0, table, nib) + BytePopCount(Vector256.LoadUnsafe(ref p, 20) ^ q1, table, nib);
            Vector256<byte> d = BytePopCount(Vector256.LoadUnsafe(ref p, 24) ^ q0, table, nib) + BytePopCount(Vector256.LoadUnsafe(ref p, 28) ^ q1, table, nib);
            return SumLanes(AddHalves(AddPairs(a, b), AddPairs(c, d)));
        }
        throw new UnreachableException();
    }

    /// <summary>Writes the distance of every code of the block to <paramref name="query"/> into <paramref name="distances"/>[row].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DistancesTo<TWidth>(ref ulong codes, int count, int words, ref ulong query, Span<int> distances)
        where TWidth : struct, IWidth
    {
        int row = 0;
        if (TWidth.Words != 0)
        {
            int w = TWidth.Words;
            Vector256<byte> table = NibbleTable();
            Vector256<byte> nib = Vector256.Create((byte)0x0F);
            (Vector256<ulong> q0, Vector256<ulong> q1) = QueryPattern<TWidth>(ref query);
            Vector256<int> evens = Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6);
            for (; row + 4 <= count; row += 4)
            {
                Vector256<ulong> d = Distances4<TWidth>(ref Unsafe.Add(ref codes, (nint)row * w), q0, q1, table, nib);
                Avx2.PermuteVar8x32(d.AsInt32(), evens).GetLower().StoreUnsafe(ref distances[row]);
            }
        }
        for (; row < count; row++)
        {
            distances[row] = Distance(ref Unsafe.Add(ref codes, (nint)row * words), ref query, words);
        }
    }

    /// <summary>Scans every row of the block at <paramref name="codes"/> against <paramref name="query"/>.</summary>
    /// <remarks>Structured as the AVX-512 scan: no call inside the search loop.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scan<TWidth, TSink>(ref ulong codes, int count, int words, ref ulong query, ref TSink sink)
        where TWidth : struct, IWidth
        where TSink : struct, IScanSink
    {
        if (TWidth.Words == 0)
        {
            ScalarKernels.ScanPerCode<Avx2Pair, TSink>(ref codes, 0, count, words, ref query, ref sink);
            return;
        }
        int w = TWidth.Words;
        Span<ulong> lanes = stackalloc ulong[8];
        int row = 0;
        while (true)
        {
            int limit = sink.Limit;
            if (limit < 0)
            {
                return;
            }
            row = SkipMisses<TWidth>(ref codes, row, count, ref query, limit);
            if (row + 8 > count)
            {
                break;
            }
            (Vector256<ulong> q0, Vector256<ulong> q1) = QueryPattern<TWidth>(ref query);
            ref ulong p = ref Unsafe.Add(ref codes, (nint)row * w);
            Vector256<ulong> d0 = Distances4<TWidth>(ref p, q0, q1, NibbleTable(), Vector256.Create((byte)0x0F));
            Vector256<ulong> d1 = Distances4<TWidth>(ref Unsafe.Add(ref p, 4 * w), q0, q1, NibbleTable(), Vector256.Create((byte)0x0F));
            Vector256<ulong> lim = Vector256.Create((ulong)limit);
            uint mask = Vector256.LessThanOrEqual(d0, lim).ExtractMostSignificantBits()
                      | (Vector256.LessThanOrEqual(d1, lim).ExtractMostSignificantBits() << 4);
            d0.StoreUnsafe(ref lanes[0]);
            d1.StoreUnsafe(ref lanes[4]);
            ScalarKernels.Drain(mask, lanes, row, ref sink);
            row += 8;
        }
        ScalarKernels.Scan<TWidth, TSink>(ref codes, row, count, w, ref query, ref sink);
    }

    /// <summary>
    /// The first row, from <paramref name="row"/> on, of a group of eight codes holding one within
    /// <paramref name="limit"/> (not negative) of the query; else the row where whole groups end.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int SkipMisses<TWidth>(ref ulong codes, int row, int count, ref ulong query, int limit)
        where TWidth : struct, IWidth
    {
        int w = TWidth.Words;
        Vector256<byte> table = NibbleTable();
        Vector256<byte> nib = Vector256.Create((byte)0x0F);
        (Vector256<ulong> q0, Vector256<ulong> q1) = QueryPattern<TWidth>(ref query);
        Vector256<ulong> lim = Vector256.Create((ulong)limit);
        for (; row + 8 <= count; row += 8)
        {
            ref ulong p = ref Unsafe.Add(ref codes, (nint)row * w);
            Vector256<ulong> d0 = Distances4<TWidth>(ref p, q0, q1, table, nib);
            Vector256<ulong> d1 = Distances4<TWidth>(ref Unsafe.Add(ref p, 4 * w), q0, q1, table, nib);
            if ((Vector256.LessThanOrEqual(d0, lim) | Vector256.LessThanOrEqual(d1, lim)) != Vector256<ulong>.Zero)
            {
                return row;
            }
        }
        return row;
    }
}

/// <summary>Pair distance through <see cref="Avx2Kernels"/>, for the per-code scan of other widths.</summary>
internal readonly struct Avx2Pair : IPairDistance
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Distance(ref ulong a, ref ulong b, int words) => Avx2Kernels.Distance(ref a, ref b, words);
}
