using BenchmarkDotNet.Attributes;
using HammingDB.Kernels;

namespace HammingDB.Benchmarks;

/// <summary>The scan kernels per code width and ISA path, on a block that fits in L3.</summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    private const int Rows = 1 << 18;
    private PackedCodes _codes = null!;
    private PackedCodes _queries = null!;
    private int[] _distances = null!;
    private SearchOptions _options = null!;

    [Params(64, 128, 256, 512, 1024)]
    public int Bits { get; set; }

    [Params(IsaLevel.Scalar, IsaLevel.Avx2, IsaLevel.Avx512, IsaLevel.Avx512Vbmi)]
    public IsaLevel Isa { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var layout = new CodeLayout(Bits);
        var random = new Random(42);
        _codes = Fill(new PackedCodes(layout, Rows), random, Rows);
        _queries = Fill(new PackedCodes(layout, 32), random, 32);
        _distances = new int[Rows];
        _options = new SearchOptions { Isa = Isa };
    }

    [Benchmark]
    public Neighbor[] Knn() => ExhaustiveSearch.Knn(_codes, _queries[0], 10, _options);

    [Benchmark]
    public Neighbor[] Radius() => ExhaustiveSearch.Radius(_codes, _queries[0], Bits / 8, _options);

    [Benchmark]
    public Neighbor[][] KnnBatch() => ExhaustiveSearch.KnnBatch(_codes, _queries, 10, _options);

    [Benchmark]
    public int Distances()
    {
        HammingDistance.ComputeAll(_codes.Block, _queries[0], _distances, Isa);
        GC.KeepAlive(_codes);
        return _distances[Rows - 1];
    }

    private static PackedCodes Fill(PackedCodes codes, Random random, int count)
    {
        var code = new ulong[codes.Layout.WordsPerCode];
        for (int i = 0; i < count; i++)
        {
            for (int w = 0; w < code.Length; w++)
            {
                code[w] = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 63);
            }
            code[^1] &= codes.Layout.LastWordMask;
            codes.Add(code);
        }
        return codes;
    }
}
