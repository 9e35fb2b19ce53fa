// HammingDB micro-benchmarks (BenchmarkDotNet). What each suite measures:
//   KernelBenchmarks.Knn       exact kNN (k=10) of one query over 262,144 codes, per width and ISA path
//   KernelBenchmarks.Radius    exact radius search (r = bits/8) of one query over the same block
//   KernelBenchmarks.KnnBatch  kNN for a batch of 32 queries, codes walked in 256 KiB tiles
//   KernelBenchmarks.Distances the full distance row of one query (no filter): raw kernel throughput
// Run: dotnet run -c Release --project bench/HammingDB.Benchmarks -- --filter '*' --job short
// Whole-file workloads beside the native limit are in bench/scan-suite.sh (hdb bench scan).
using BenchmarkDotNet.Running;

namespace HammingDB.Benchmarks;

public static class Program
{
    public static int Main(string[] args)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        // A filter that matches nothing still "succeeds" in BenchmarkDotNet: report it as a failure.
        return summaries.Any(s => s.Reports.Any()) ? 0 : 1;
    }
}
