namespace HammingDB.Encoders.Internal;

/// <summary>
/// The encoders' one source of randomness: xoshiro256** seeded through SplitMix64 from a seed and a
/// stream number (one stream per purpose, so adding a draw to one step never shifts another), and
/// Gaussians by the Box-Muller transform. Written out here, rather than <see cref="Random"/>, so
/// that what a seed means is stated in this file and never changes with the runtime's generator.
/// </summary>
internal sealed class SeededRandom
{
    /// <summary>Streams: what each seeded draw is for.</summary>
    public const ulong HyperplaneStream = 1, RotationStream = 2, ExpansionStream = 3, ShuffleStream = 4;

    private ulong _s0, _s1, _s2, _s3;
    private double _spareGaussian;
    private bool _hasSpare;

    public SeededRandom(ulong seed, ulong stream, ulong substream = 0)
    {
        ulong x = seed ^ (stream * 0xD1B54A32D192ED03UL) ^ (substream * 0xA0761D6478BD642FUL);
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        ulong z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1), 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, <paramref name="maxExclusive"/>) (multiply-shift; the bias, below 2^-32, does not matter here).</summary>
    public int NextInt(int maxExclusive) => (int)(((NextUInt64() >> 32) * (ulong)maxExclusive) >> 32);

    /// <summary>Standard normal.</summary>
    public double NextGaussian()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spareGaussian;
        }
        double u1 = 1.0 - NextDouble(); // (0, 1]: the logarithm is finite
        double u2 = NextDouble();
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        double angle = 2.0 * Math.PI * u2;
        _spareGaussian = radius * Math.Sin(angle);
        _hasSpare = true;
        return radius * Math.Cos(angle);
    }

    /// <summary>A uniformly random permutation of 0..<paramref name="count"/>-1 (Fisher-Yates).</summary>
    public int[] Permutation(int count)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++)
        {
            order[i] = i;
        }
        for (int i = count - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
