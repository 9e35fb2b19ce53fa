using HammingDB.Kernels;

namespace HammingDB.Tests;

/// <summary>Seeded test data and an oracle that shares no code with the kernels.</summary>
internal static class TestData
{
    /// <summary>Every width the tests sweep: 8..1024 in steps of 8, and some larger ones up to the maximum.</summary>
    public static IEnumerable<int> AllWidths() =>
        Enumerable.Range(1, 128).Select(i => i * 8).Concat([1096, 1536, 2048, 3072, 4096, 8192]);

    public static TheoryData<int> AllWidthsData()
    {
        var data = new TheoryData<int>();
        foreach (int bits in AllWidths())
        {
            data.Add(bits);
        }
        return data;
    }

    /// <summary>The ISA levels this machine can run (all four on the development machines).</summary>
    public static IEnumerable<IsaLevel> SupportedLevels() =>
        Enum.GetValues<IsaLevel>().Where(Isa.IsSupported);

    public static ulong[] RandomCode(Random random, CodeLayout layout)
    {
        var code = new ulong[layout.WordsPerCode];
        for (int w = 0; w < code.Length; w++)
        {
            code[w] = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 63);
        }
        code[^1] &= layout.LastWordMask;
        return code;
    }

    /// <summary>
    /// <paramref name="count"/> codes. With <paramref name="pool"/> &gt; 0, each code is one of
    /// <paramref name="pool"/> base codes with 0..2 bits flipped, so many distances tie.
    /// </summary>
    public static PackedCodes Codes(Random random, CodeLayout layout, int count, int pool = 0, int extraCapacity = 0)
    {
        var codes = new PackedCodes(layout, count + extraCapacity);
        ulong[][] bases = Enumerable.Range(0, pool).Select(_ => RandomCode(random, layout)).ToArray();
        for (int i = 0; i < count; i++)
        {
            ulong[] code = pool > 0 ? (ulong[])bases[random.Next(pool)].Clone() : RandomCode(random, layout);
            int flips = pool > 0 ? random.Next(3) : 0;
            for (int f = 0; f < flips; f++)
            {
                int bit = random.Next(layout.CodeBits);
                code[bit / 64] ^= 1UL << (bit % 64);
            }
            codes.Add(code);
        }
        return codes;
    }

    /// <summary>Distance by bytes and a 256-entry table: independent of the kernels.</summary>
    public static int OracleDistance(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        int sum = 0;
        for (int w = 0; w < a.Length; w++)
        {
            ulong x = a[w] ^ b[w];
            for (int byteIndex = 0; byteIndex < 8; byteIndex++)
            {
                sum += ByteBits[(int)((x >> (8 * byteIndex)) & 0xFF)];
            }
        }
        return sum;
    }

    public static Neighbor[] OracleKnn(PackedCodes codes, ReadOnlySpan<ulong> query, int k, int offset = 0) =>
        OracleAll(codes, query, offset).Take(k).ToArray();

    public static Neighbor[] OracleRadius(PackedCodes codes, ReadOnlySpan<ulong> query, int radius, int offset = 0) =>
        OracleAll(codes, query, offset).Where(n => n.Distance <= radius).ToArray();

    private static List<Neighbor> OracleAll(PackedCodes codes, ReadOnlySpan<ulong> query, int offset)
    {
        var all = new List<Neighbor>();
        for (int row = offset; row < codes.Count; row++)
        {
            all.Add(new Neighbor(row - offset, OracleDistance(codes[row], query)));
        }
        all.Sort((x, y) => x.Distance != y.Distance ? x.Distance.CompareTo(y.Distance) : x.Id.CompareTo(y.Id));
        return all;
    }

    private static readonly int[] ByteBits = Enumerable.Range(0, 256).Select(v => Convert.ToString(v, 2).Count(c => c == '1')).ToArray();

    /// <summary>Every row of <paramref name="codes"/> (those <paramref name="keep"/> keeps) with its oracle distance, by distance then row.</summary>
    public static Neighbor[] BruteNeighbors(PackedCodes codes, ulong[] query, Func<int, bool>? keep = null)
    {
        var all = new List<Neighbor>();
        for (int row = 0; row < codes.Count; row++)
        {
            if (keep is null || keep(row))
            {
                all.Add(new Neighbor(row, OracleDistance(codes[row], query)));
            }
        }
        all.Sort();
        return [.. all];
    }

    /// <summary>Asserts the two neighbour lists are equal, naming the first difference.</summary>
    public static void AssertSameNeighbors(Neighbor[] expected, Neighbor[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {expected.Length} expected, {actual.Length} found");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(expected[i] == actual[i], $"{what}: result {i} is {actual[i]}, expected {expected[i]}");
        }
    }
}
