using System.Text.Json;
using HammingDB.Cli;
using HammingDB.Kernels;
using Xunit.Abstractions;

namespace HammingDB.Tests.Cli;

public sealed class BenchScanCliTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hdb-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Hdb(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = HammingDB.Cli.Program.Run(args, stdout, stderr);
        output.WriteLine($"hdb {string.Join(' ', args)} -> {exit}\n{stderr}");
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private string Write(string name, PackedCodes codes)
    {
        string path = Path.Combine(_dir, name);
        HdbcFile.Write(path, codes);
        return path;
    }

    [Theory]
    [InlineData(64, "single", 1, "--k", 7)]
    [InlineData(256, "batch", 2, "--k", 3)]
    [InlineData(128, "single", 2, "--radius", 50)]
    [InlineData(72, "batch", 1, "--radius", 30)]
    public void Bench_scan_reports_the_exact_results(int bits, string mode, int threads, string op, int value)
    {
        const int seed = 77;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        PackedCodes codes = TestData.Codes(random, layout, 3000, pool: 20);
        PackedCodes queries = TestData.Codes(random, layout, 11, pool: 20);
        string db = Write("db.hdbc", codes), q = Write("q.hdbc", queries), results = Path.Combine(_dir, "results.txt");

        var (exit, stdout, _) = Hdb("bench", "scan", "--codes", db, "--queries", q, op, value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--mode", mode, "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture), "--results", results);

        Assert.Equal(ExitCodes.Ok, exit);
        using var json = JsonDocument.Parse(stdout.Trim());
        JsonElement line = json.RootElement;
        foreach (string field in new[] { "workload", "mode", "threads", "queries", "codes_per_s", "mean_ms", "p50_ms", "p99_ms", "checksum", "results_hash" })
        {
            Assert.True(line.TryGetProperty(field, out _), $"missing {field}");
        }
        Assert.Equal(mode, line.GetProperty("mode").GetString());
        Assert.Equal(11, line.GetProperty("queries").GetInt32());
        var expected = new Neighbor[queries.Count][];
        for (int j = 0; j < queries.Count; j++)
        {
            expected[j] = op == "--k" ? TestData.OracleKnn(codes, queries[j], value) : TestData.OracleRadius(codes, queries[j], value);
        }
        var summary = ScanBenchmark.Summarize(expected);
        Assert.Equal(summary.Hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture), line.GetProperty("results_hash").GetString());
        Assert.Equal(op == "--k" ? summary.DistanceSum : summary.Rows, line.GetProperty("checksum").GetInt64());
        string[] lines = File.ReadAllLines(results);
        Assert.Equal(queries.Count, lines.Length);
        Assert.Equal($"{(op == "--k" ? expected[0][^1].Distance : 0)} {expected[0].Length}", lines[0]);
    }

    [Theory]
    [InlineData(64, "--radius", 6)]
    [InlineData(128, "--k", 5)]
    public void Bench_mih_compares_every_answer_with_the_scan(int bits, string op, int value)
    {
        const int seed = 78;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        // Repeated codes (a pool of 300 among 3000 rows) give ties and non-empty radius results.
        PackedCodes data = TestData.Codes(random, layout, 3000, pool: 300);
        var near = new PackedCodes(layout, 20);
        for (int i = 0; i < 20; i++)
        {
            near.Add(data[i * 97]); // queries equal to rows: every answer is non-empty
        }
        string codes = Write("codes.hdbc", data);
        string queries = Write("queries.hdbc", near);
        (int exit, string stdout, string stderr) = Hdb("bench", "mih", "--codes", codes, "--queries", queries, op, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(exit == 0, stderr);
        JsonElement line = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(0, line.GetProperty("mismatches").GetInt32());
        Assert.Equal(20, line.GetProperty("queries").GetInt32());
        Assert.True(line.GetProperty("results").GetInt64() >= 20);
        Assert.Equal(2, Hdb("bench", "mih", "--codes", codes, "--queries", queries).Exit);
        Assert.Equal(2, Hdb("bench", "mih", "--codes", codes, "--queries", queries, "--k", "0").Exit);

        // Two ways of searching the same tables, side by side: both answer as the scan.
        (exit, stdout, stderr) = Hdb("bench", "mih", "--codes", codes, "--queries", queries, op, value.ToString(System.Globalization.CultureInfo.InvariantCulture), "--thresholds", "both");
        Assert.True(exit == 0, stderr);
        line = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(0, line.GetProperty("mismatches").GetInt32());
        Assert.Equal(0, line.GetProperty("second").GetProperty("mismatches").GetInt32());
        Assert.Contains("pigeonhole", line.GetProperty("second").GetProperty("variant").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, Hdb("bench", "mih", "--codes", codes, "--queries", queries, op, "1", "--thresholds", "both", "--filter-words", "both").Exit);
    }

    [Fact]
    public void Bad_usage_exits_2_with_a_message()
    {
        var layout = new CodeLayout(64);
        string db = Write("db.hdbc", TestData.Codes(new Random(1), layout, 10));
        Assert.Contains("exactly one of --k and --radius", Expect2("bench", "scan", "--codes", db, "--queries", db), StringComparison.Ordinal);
        Assert.Contains("exactly one of --k and --radius", Expect2("bench", "scan", "--codes", db, "--queries", db, "--k", "3", "--radius", "2"), StringComparison.Ordinal);
        Assert.Contains("--k must be at least 1", Expect2("bench", "scan", "--codes", db, "--queries", db, "--k", "0"), StringComparison.Ordinal);
        Assert.Contains("--radius must not be negative", Expect2("bench", "scan", "--codes", db, "--queries", db, "--radius", "-1"), StringComparison.Ordinal);
        Assert.Contains("--threads must be at least 1", Expect2("bench", "scan", "--codes", db, "--queries", db, "--k", "1", "--threads", "0"), StringComparison.Ordinal);
        Assert.Contains("sse9", Expect2("bench", "scan", "--codes", db, "--queries", db, "--k", "1", "--isa", "sse9"), StringComparison.Ordinal);
        Assert.Contains("--codes", Expect2("bench", "scan", "--queries", db, "--k", "1"), StringComparison.Ordinal);
        Assert.Contains("nope.hdbc", Expect2("bench", "scan", "--codes", Path.Combine(_dir, "nope.hdbc"), "--queries", db, "--k", "1"), StringComparison.Ordinal);
    }

    [Fact]
    public void Damaged_or_mismatched_files_exit_2_naming_the_file_and_offset()
    {
        var layout = new CodeLayout(64);
        string db = Write("db.hdbc", TestData.Codes(new Random(2), layout, 10));
        string wide = Write("wide.hdbc", TestData.Codes(new Random(3), new CodeLayout(128), 4));

        byte[] bytes = File.ReadAllBytes(db);
        string truncated = Path.Combine(_dir, "truncated.hdbc");
        File.WriteAllBytes(truncated, bytes[..^3]);
        string message = Expect2("bench", "scan", "--codes", truncated, "--queries", db, "--k", "1");
        Assert.Contains("truncated.hdbc", message, StringComparison.Ordinal);
        Assert.Contains("says 10 codes", message, StringComparison.Ordinal);

        string badMagic = Path.Combine(_dir, "magic.hdbc");
        byte[] copy = (byte[])bytes.Clone();
        copy[0] = (byte)'X';
        File.WriteAllBytes(badMagic, copy);
        Assert.Contains("offset 0", Expect2("bench", "scan", "--codes", badMagic, "--queries", db, "--k", "1"), StringComparison.Ordinal);

        string badBits = Path.Combine(_dir, "bits.hdbc");
        copy = (byte[])bytes.Clone();
        copy[8] = 12;
        File.WriteAllBytes(badBits, copy);
        Assert.Contains("offset 8", Expect2("bench", "scan", "--codes", badBits, "--queries", db, "--k", "1"), StringComparison.Ordinal);

        string tiny = Path.Combine(_dir, "tiny.hdbc");
        File.WriteAllBytes(tiny, bytes[..20]);
        Assert.Contains("shorter than the 32-byte header", Expect2("bench", "scan", "--codes", tiny, "--queries", db, "--k", "1"), StringComparison.Ordinal);

        Assert.Contains("128-bit codes but", Expect2("bench", "scan", "--codes", db, "--queries", wide, "--k", "1"), StringComparison.Ordinal);

        // A 72-bit file whose padding bits are set: the code would be corrupt, so it is refused.
        var layout72 = new CodeLayout(72);
        string padded = Write("pad.hdbc", TestData.Codes(new Random(4), layout72, 3));
        copy = File.ReadAllBytes(padded);
        copy[HdbcFile.HeaderBytes + 16 + 9] = 0xFF;
        File.WriteAllBytes(padded, copy);
        Assert.Contains("past bit 71", Expect2("bench", "scan", "--codes", padded, "--queries", padded, "--k", "1"), StringComparison.Ordinal);
    }

    private string Expect2(params string[] args)
    {
        var (exit, stdout, stderr) = Hdb(args);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        // Progress lines may come first; the error is the last thing said.
        Assert.StartsWith("hdb: ", stderr.TrimEnd().Split('\n')[^1], StringComparison.Ordinal);
        return stderr;
    }

    [Fact]
    public void Bench_plan_times_every_plan_with_the_same_answers()
    {
        const int seed = 78;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(64);
        PackedCodes codes = TestData.Codes(random, layout, 70_000, pool: 0); // over MihMinRows: the segment gets tables
        PackedCodes queries = TestData.Codes(random, layout, 5, pool: 0);
        string db = Write("c.hdbc", codes), q = Write("q.hdbc", queries), path = Path.Combine(_dir, "plan-db");

        var (exit, stdout, stderr) = Hdb("bench", "plan", "--codes", db, "--queries", q, "--db", path, "--radii", "0,2", "--k", "3", "--seconds", "0.5");

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("cost model: measured", stderr, StringComparison.Ordinal);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        JsonElement[] points = [.. lines.Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.GetProperty("bench").GetString() == "plan")];
        Assert.Equal(3, points.Length); // radius 0, radius 2, kNN 3
        Assert.Equal(3, lines.Length - points.Length); // a batch line per point
        foreach (JsonElement point in points)
        {
            Assert.Equal(0, point.GetProperty("mismatches").GetInt32());
            int[] rounds = [.. point.GetProperty("rounds_mih_scan_auto").EnumerateArray().Select(r => r.GetInt32())];
            Assert.All(rounds, r => Assert.InRange(r, 2, 20));
            Assert.Equal(rounds.Max(), point.GetProperty("rounds").GetInt32());
            Assert.StartsWith("measured", point.GetProperty("cost_model").GetString(), StringComparison.Ordinal);
        }
        Assert.Equal(2, Hdb("bench", "plan", "--codes", db, "--queries", q, "--db", path, "--radii", "1", "--seconds", "0").Exit);
    }
}
