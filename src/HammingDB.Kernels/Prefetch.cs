using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace HammingDB.Kernels;

/// <summary>
/// Software prefetch: asks the CPU to bring the cache line holding a value into all cache levels
/// without waiting for it. Multi-index hashing reads buckets at random places in tables far larger
/// than the caches, so a probe's two reads (its offsets, then its first postings) are cache misses;
/// prefetching the buckets a few probes ahead overlaps those misses instead of paying them one
/// after another.
/// </summary>
public static class Prefetch
{
    /// <summary>
    /// Prefetches the cache line of <paramref name="value"/>. A hint only: it never faults and changes
    /// no result; where the CPU has no prefetch instruction it does nothing. The address is taken
    /// from a managed reference without pinning, which is sound because a prefetch of a stale
    /// address (had the collector moved the object meanwhile) is harmless.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Line<T>(ref readonly T value)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.AsRef(in value)));
        }
    }
}
