using HammingDB.Kernels;
using HammingDB.Storage;
using HammingDB.Storage.Keys;
using Xunit.Abstractions;

namespace HammingDB.Tests.Faults;

/// <summary>Allocation deltas are measured process-wide, so these tests run alone.</summary>
[CollectionDefinition(nameof(ResourceLimitsRunAlone), DisableParallelization = true)]
public sealed class ResourceLimitsRunAlone;

/// <summary>
/// Huge k, huge radius, huge batches through the API: answers are every row, memory is bounded by the
/// rows that exist (never by k), and bad arguments are refused naming the parameter.
/// </summary>
[Collection(nameof(ResourceLimitsRunAlone))]
public class ResourceLimitTests(ITestOutputHelper output)
{
    private const int Seed = 6;
    private const int Keys = 3000;

    private static readonly QueryPlan[] Plans = [QueryPlan.Auto, QueryPlan.Mih, QueryPlan.Scan];

    [Theory]
    [InlineData(64)]
    [InlineData(192)]
    public async Task Huge_k_returns_every_row_without_allocating_by_k(int bits)
    {
        using Fixture f = Fixture.Create(bits);
        ulong[] query = f.Codes[7];
        var every = f.Brute(query).ToList();
        foreach (int k in new[] { f.Live + 1, 50_000_000, int.MaxValue })
        {
            foreach (QueryPlan plan in Plans)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                IReadOnlyList<SearchResult<ulong>> found = f.Items.Knn(query, k, plan);
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                output.WriteLine($"{bits} bits, k={k}, {plan}: {found.Count} rows, {allocated:N0} bytes allocated");
                Assert.Equal(every, found);
                // Every row's key and result, the collectors and MIH's per-query state: a few hundred bytes per row.
                Assert.True(allocated < 2_000_000 + 1000L * f.Live, $"k={k} {plan}: {allocated:N0} bytes allocated for {f.Live} rows");
                Assert.Equal(every, await f.Items.KnnAsync(query, k, plan));
                Assert.Equal(every.Count, f.Items.ExplainKnn(query, k, plan).Results);
            }
            long total = GC.GetTotalAllocatedBytes(precise: true);
            IReadOnlyList<IReadOnlyList<SearchResult<ulong>>> batch = f.Items.KnnBatch([query, f.Codes[8], f.Codes[9]], k, threads: 2);
            long batchBytes = GC.GetTotalAllocatedBytes(precise: true) - total;
            output.WriteLine($"  KnnBatch of 3, k={k}: {batchBytes:N0} bytes allocated");
            Assert.Equal(every, batch[0]);
            Assert.Equal(f.Brute(f.Codes[9]).ToList(), batch[2]);
            Assert.True(batchBytes < 6_000_000 + 3000L * f.Live, $"KnnBatch k={k}: {batchBytes:N0} bytes allocated");
        }
        // The kernels' own entry points cap their collectors by the rows too.
        var packed = new PackedCodes(f.Items.Layout, f.Codes.Length);
        foreach (ulong[] code in f.Codes)
        {
            packed.Add(code);
        }
        long kernelBefore = GC.GetAllocatedBytesForCurrentThread();
        Neighbor[] all = ExhaustiveSearch.Knn(packed, query, int.MaxValue, new SearchOptions { Threads = 1 });
        Assert.Equal(f.Codes.Length, all.Length);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - kernelBefore < 1_000_000 + 100L * f.Codes.Length);
        Assert.Equal(f.Codes.Length, ExhaustiveSearch.KnnBatch(packed.Block, packed.Block.Slice(0, 2), int.MaxValue, new SearchOptions { Threads = 1 })[1].Length);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(192)]
    public void Huge_radius_is_every_row_without_overflow(int bits)
    {
        using Fixture f = Fixture.Create(bits);
        ulong[] query = f.Codes[3];
        var every = f.Brute(query).ToList();
        foreach (int radius in new[] { bits, bits + 1, int.MaxValue - 1, int.MaxValue })
        {
            foreach (QueryPlan plan in Plans)
            {
                Assert.Equal(every, f.Items.Radius(query, radius, plan));
                Assert.Equal(every, f.Items.RadiusAsync(query, radius, plan).ToBlockingEnumerable().ToList());
                Assert.Equal(every, f.Items.RadiusBatch([query, f.Codes[4]], radius, threads: 2, plan)[0]);
                Assert.Equal(every.Count, f.Items.ExplainRadius(query, radius, plan).Results);
            }
        }
        var packed = new PackedCodes(f.Items.Layout, f.Codes.Length);
        foreach (ulong[] code in f.Codes)
        {
            packed.Add(code);
        }
        Assert.Equal(f.Codes.Length, ExhaustiveSearch.Radius(packed, query, int.MaxValue).Length);
        Assert.Equal(f.Codes.Length, ExhaustiveSearch.RadiusBatch(packed.Block, packed.Block.Slice(0, 2), int.MaxValue)[1].Length);
    }

    [Fact]
    public void Negative_or_zero_k_and_negative_radius_are_refused_naming_the_parameter()
    {
        using Fixture f = Fixture.Create(64);
        ulong[] query = f.Codes[0];
        foreach (int k in new[] { 0, -1, int.MinValue })
        {
            Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => f.Items.Knn(query, k)).ParamName);
            Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => { _ = f.Items.KnnAsync(query, k); }).ParamName);
            Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => f.Items.KnnBatch([query], k)).ParamName);
            Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => f.Items.ExplainKnn(query, k)).ParamName);
        }
        foreach (int radius in new[] { -1, int.MinValue })
        {
            Assert.Equal("radius", Assert.Throws<ArgumentOutOfRangeException>(() => f.Items.Radius(query, radius)).ParamName);
            Assert.Equal("radius", Assert.Throws<ArgumentOutOfRangeException>(() => f.Items.RadiusAsync(query, radius)).ParamName);
            Assert.Equal("radius", Assert.Throws<ArgumentOutOfRangeException>(() => f.Items.RadiusBatch([query], radius)).ParamName);
            Assert.Equal("radius", Assert.Throws<ArgumentOutOfRangeException>(() => f.Items.ExplainRadius(query, radius)).ParamName);
        }
        Assert.Equal("threads", Assert.Throws<ArgumentOutOfRangeException>(() => f.Items.KnnBatch([query], 1, threads: -1)).ParamName);
        PackedCodes packed = f.Packed();
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => ExhaustiveSearch.Knn(packed, query, 0)).ParamName);
        Assert.Equal("radius", Assert.Throws<ArgumentOutOfRangeException>(() => ExhaustiveSearch.Radius(packed, query, -1)).ParamName);
    }

    [Fact]
    public void A_batch_of_many_queries_allocates_per_query_only_its_own_results()
    {
        using Fixture f = Fixture.Create(64);
        var random = new Random(Seed);
        const int Queries = 100_000;
        var queries = new ReadOnlyMemory<ulong>[Queries];
        for (int i = 0; i < Queries; i++)
        {
            queries[i] = f.Codes[random.Next(f.Codes.Length)];
        }
        foreach (QueryPlan plan in Plans)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            IReadOnlyList<IReadOnlyList<SearchResult<ulong>>> knn = f.Items.KnnBatch(queries, 2, threads: 2, plan);
            long knnBytes = GC.GetTotalAllocatedBytes(precise: true) - before;
            before = GC.GetTotalAllocatedBytes(precise: true);
            IReadOnlyList<IReadOnlyList<SearchResult<ulong>>> radius = f.Items.RadiusBatch(queries, 0, threads: 2, plan);
            long radiusBytes = GC.GetTotalAllocatedBytes(precise: true) - before;
            output.WriteLine($"{Queries} queries, {plan}: KnnBatch k=2 {knnBytes / Queries:N0} bytes per query, RadiusBatch r=0 {radiusBytes / Queries:N0} bytes per query");
            Assert.Equal(Queries, knn.Count);
            Assert.Equal(Queries, radius.Count);
            Assert.Equal(f.Brute(queries[^1].ToArray()).Take(2).ToList(), knn[^1]);
            // Not O(rows) per query (3000 rows: 24 KB of distances or more); about 1.5-3.2 KB measured.
            Assert.True(knnBytes / Queries < 8192, $"KnnBatch {plan}: {knnBytes / Queries:N0} bytes per query");
            Assert.True(radiusBytes / Queries < 8192, $"RadiusBatch {plan}: {radiusBytes / Queries:N0} bytes per query");
        }
    }

    /// <summary>
    /// An in-memory database with <see cref="Keys"/> rows: most in segments with MIH tables (some
    /// deleted or superseded since), the rest in the memtable; codes from a small pool so distances tie.
    /// </summary>
    private sealed class Fixture : IDisposable
    {
        private Fixture(HammingDatabase db, HammingCollection<ulong> items, ulong[][] codes, Dictionary<ulong, ulong[]> rows)
        {
            Db = db;
            Items = items;
            Codes = codes;
            Rows = rows;
        }

        public HammingDatabase Db { get; }

        public HammingCollection<ulong> Items { get; }

        public ulong[][] Codes { get; }

        public Dictionary<ulong, ulong[]> Rows { get; }

        public int Live => Rows.Count;

        public static Fixture Create(int bits)
        {
            var random = new Random(Seed + bits);
            var layout = new CodeLayout(bits);
            ulong[][] pool = [.. Enumerable.Range(0, 40).Select(_ => TestData.RandomCode(random, layout))];
            ulong[][] codes = [.. Enumerable.Range(0, Keys).Select(_ =>
            {
                ulong[] code = (ulong[])pool[random.Next(pool.Length)].Clone();
                int bit = random.Next(bits);
                code[bit / 64] ^= 1UL << (bit % 64);
                return code;
            })];
            var db = HammingDatabase.Open(new MemoryFileSystem(), "/db",
                new DatabaseOptions { SealRows = 1000, MihMinRows = 500, BackgroundCompaction = false }, new MemoryKeyIndexStore());
            HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = bits });
            var rows = new Dictionary<ulong, ulong[]>();
            for (int start = 0; start < Keys; start += 500)
            {
                CollectionBatch<ulong> batch = items.NewBatch();
                for (int i = start; i < start + 500; i++)
                {
                    batch.Upsert((ulong)i, codes[i]);
                    rows[(ulong)i] = codes[i];
                }
                items.Apply(batch);
            }
            for (int i = 0; i < 200; i++)
            {
                ulong key = (ulong)random.Next(Keys);
                if (i % 2 == 0)
                {
                    items.Delete(key);
                    rows.Remove(key);
                }
                else
                {
                    items.Upsert(key, codes[i]);
                    rows[key] = codes[i];
                }
            }
            foreach (CollectionStats stats in new[] { items.GetStats() })
            {
                Assert.True(stats.Segments >= 2 && stats.MemtableRows > 0, $"fixture: {stats}");
            }
            return new Fixture(db, items, codes, rows);
        }

        public IEnumerable<SearchResult<ulong>> Brute(ulong[] query) =>
            Rows.Select(r => new SearchResult<ulong>(r.Key, TestData.OracleDistance(r.Value, query))).OrderBy(r => r.Distance).ThenBy(r => r.Key);

        public PackedCodes Packed()
        {
            var packed = new PackedCodes(Items.Layout, Codes.Length);
            foreach (ulong[] code in Codes)
            {
                packed.Add(code);
            }
            return packed;
        }

        public void Dispose() => Db.Dispose();
    }
}

/// <summary>
/// The same limits through hdb: huge --k and --radius, lines longer than the 1 MiB hdb reads (refused,
/// naming the input and line, with memory independent of the line's length), queries past what hdb
/// holds from a pipe (refused), and a query file of millions of lines (streamed, under a GC heap limit
/// in a child process).
/// </summary>
[Collection(nameof(ResourceLimitsRunAlone))]
public class ResourceLimitCliTests(ITestOutputHelper output) : Cli.CliHarness(output)
{
    private const int RowCount = 1000;

    [Fact]
    public void Query_with_huge_k_or_radius_returns_every_row_and_negative_values_are_refused()
    {
        string db = Database();
        byte[] queries = Utf8("00000000000000ff\nffffffff00000000\n");
        foreach (string[] limit in new[] { new[] { "--k", "2147483647" }, ["--k", Str(RowCount + 1)], ["--radius", "2147483647"], ["--radius", "64"] })
        {
            List<System.Text.Json.JsonElement> answers = JsonLines(Ok(queries, ["query", db, "-", "--format", "hex", .. limit]).Stdout);
            Assert.Equal(2, answers.Count);
            Assert.All(answers, a => Assert.Equal(RowCount, a.GetProperty("results").GetArrayLength()));
        }
        Assert.Contains("--k must be at least 1", Bad(queries, "query", db, "-", "--format", "hex", "--k", "0"), StringComparison.Ordinal);
        Assert.Contains("--k must be at least 1", Bad(queries, "query", db, "-", "--format", "hex", "--k", "-1"), StringComparison.Ordinal);
        Assert.Contains("--radius must not be negative", Bad(queries, "query", db, "-", "--format", "hex", "--radius", "-1"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_line_longer_than_1_MiB_is_refused_naming_the_input_and_the_line_in_memory_independent_of_its_length()
    {
        string db = Database();
        Assert.Contains("1 MiB", Ok("query", "--help").Stdout, StringComparison.Ordinal);
        Assert.Contains("1 MiB", Ok("ingest", "--help").Stdout, StringComparison.Ordinal);
        // hex and ndjson, ingest and query; the ndjson line is a JSON string that never ends.
        (string Name, byte[] Prefix, string[] Args)[] cases =
        [
            ("ingest hex", Utf8("1\t"), ["ingest", db, "-", "--format", "hex"]),
            ("ingest ndjson", Utf8("{\"key\":1,\"code\":\""), ["ingest", db, "-", "--format", "ndjson"]),
            ("query hex", Utf8("00000000000000ff\n"), ["query", db, "-", "--format", "hex", "--k", "1"]),
            ("query ndjson", Utf8("{\"code\":\"00000000000000ff\"}\n{\"code\":\""), ["query", db, "-", "--format", "ndjson", "--k", "1"]),
            ("get --keys-file", Utf8("1\n2\n"), ["get", db, "--keys-file", "-"]),
        ];
        foreach ((string name, byte[] prefix, string[] args) in cases)
        {
            int line = prefix.Count(b => b == (byte)'\n') + 1;
            long small = Refused(name, prefix, 2L << 20, args, $"stdin: line {line}: the line is longer than 1048576 bytes (1 MiB)");
            long huge = Refused(name, prefix, 300L << 20, args, $"stdin: line {line}: the line is longer than 1048576 bytes (1 MiB)");
            Output.WriteLine($"{name}: a 2 MiB line: {small:N0} bytes allocated, a 300 MiB line: {huge:N0}");
            Assert.True(huge - small < 16L << 20, $"{name}: {huge - small:N0} more bytes allocated for a 300 MiB line than for a 2 MiB one");
        }
        // A regular file: a sparse 400 MiB of zeros (no line end), and one whose fourth line is too long.
        string sparse = PathOf("sparse.hex");
        using (var file = new FileStream(sparse, FileMode.Create))
        {
            file.SetLength(400L << 20);
        }
        Assert.Contains($"{sparse}: line 1: the line is longer than 1048576 bytes", Bad(null, "query", db, sparse, "--format", "hex", "--k", "1"), StringComparison.Ordinal);
        Assert.Contains($"{sparse}: line 1: the line is longer than 1048576 bytes", Bad(null, "ingest", db, sparse, "--format", "ndjson"), StringComparison.Ordinal);
        string fourth = PathOf("fourth.hex");
        File.WriteAllText(fourth, "00000000000000ff\n00000000000000fe\n00000000000000fd\n" + new string('a', 3 << 20) + "\n");
        Assert.Contains($"{fourth}: line 4: the line is longer than 1048576 bytes", Bad(null, "query", db, fourth, "--format", "hex", "--k", "1"), StringComparison.Ordinal);
    }

    [Fact]
    public void Queries_from_a_pipe_past_64_MiB_are_refused_before_any_runs()
    {
        string db = Database();
        byte[] line = Utf8("0123456789abcdef\n");
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var stdin = new GeneratedStream([], line, 20_000_000L * line.Length);
        using var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int exit = HammingDB.Cli.Program.Run(["query", db, "-", "--format", "hex", "--k", "1"], stdin, stdout, stderr);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Output.WriteLine($"exit {exit} after {stdin.Position:N0} bytes of 20,000,000 lines read, {allocated:N0} bytes allocated\n{stderr}");
        Assert.Equal(HammingDB.Cli.ExitCodes.BadInput, exit);
        Assert.Equal(0, stdout.Length);
        Assert.Contains("stdin: the queries take more than 64 MiB", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("give 'hdb query' a regular file", stderr.ToString(), StringComparison.Ordinal);
        // Holding all 20 million would take over 640 MB of arrays alone.
        Assert.True(allocated < 400L << 20, $"{allocated:N0} bytes allocated");
    }

    [Theory]
    [InlineData("get")]
    [InlineData("delete")]
    public void Keys_from_a_pipe_past_64_MiB_are_refused_before_anything_is_done(string command)
    {
        string db = Database();
        byte[] line = Utf8("12345678901234\n");
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var stdin = new GeneratedStream([], line, 20_000_000L * line.Length);
        using var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int exit = HammingDB.Cli.Program.Run([command, db, "--keys-file", "-"], stdin, stdout, stderr);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Output.WriteLine($"{command}: exit {exit} after {stdin.Position:N0} bytes of 20,000,000 lines read, {allocated:N0} bytes allocated\n{stderr}");
        Assert.Equal(HammingDB.Cli.ExitCodes.BadInput, exit);
        Assert.Equal(0, stdout.Length);
        Assert.Contains("the keys take more than 64 MiB", stderr.ToString(), StringComparison.Ordinal);
        // Holding all 20 million keys would take over 600 MB.
        Assert.True(allocated < 400L << 20, $"{allocated:N0} bytes allocated");
    }

    [Fact]
    public async Task A_query_file_of_two_million_lines_runs_under_a_64_MiB_heap_limit()
    {
        const int Queries = 2_000_000;
        string db = Database();
        string queries = PathOf("queries.hex");
        var random = new Random(6);
        using (var writer = new StreamWriter(queries))
        {
            for (int i = 0; i < Queries; i++)
            {
                writer.Write(((ulong)random.NextInt64() ^ ((ulong)random.Next() << 63)).ToString("x16", System.Globalization.CultureInfo.InvariantCulture));
                writer.Write('\n');
            }
        }
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { "exec", typeof(HammingDB.Cli.Program).Assembly.Location, "query", db, queries, "--format", "hex", "--k", "1" })
        {
            start.ArgumentList.Add(arg);
        }
        // Holding every query (the old behaviour) needs more than 128 MiB of heap for this file.
        start.Environment["DOTNET_GCHeapHardLimit"] = "0x4000000";
        using var child = System.Diagnostics.Process.Start(start)!;
        Task<string> errors = child.StandardError.ReadToEndAsync();
        long lines = 0, peakKb = 0;
        string? last = null;
        using var poll = new Timer(_ => peakKb = Math.Max(peakKb, PeakKb(child)), null, 0, 50);
        while (await child.StandardOutput.ReadLineAsync() is { } text)
        {
            lines++;
            last = text;
        }
        await child.WaitForExitAsync();
        poll.Dispose();
        Output.WriteLine($"exit {child.ExitCode}, {lines:N0} result lines, peak resident {peakKb:N0} KiB (polled)\n{await errors}");
        Assert.Equal(0, child.ExitCode);
        Assert.Equal(Queries, lines);
        Assert.StartsWith($"{{\"query\":{Queries - 1},", last, StringComparison.Ordinal);
    }

    // Runs hdb on a generated stdin of the prefix then fill bytes without a line end; requires exit 2 and the message; returns the bytes allocated.
    private static long Refused(string name, byte[] prefix, long length, string[] args, string message)
    {
        var stdin = new GeneratedStream(prefix, Utf8("a"), length);
        using var stdout = new MemoryStream();
        var stderr = new StringWriter();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        int exit = HammingDB.Cli.Program.Run(args, stdin, stdout, stderr);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(exit == HammingDB.Cli.ExitCodes.BadInput, $"{name}: exit {exit}: {stderr}");
        Assert.Contains(message, stderr.ToString(), StringComparison.Ordinal);
        Assert.True(stdin.Position < (4L << 20), $"{name}: {stdin.Position:N0} bytes read before the refusal");
        return allocated;
    }

    private static long PeakKb(System.Diagnostics.Process process)
    {
        try
        {
            string? line = File.ReadLines($"/proc/{process.Id}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    // A database of 1000 random 64-bit rows.
    private string Database()
    {
        string db = PathOf("db");
        Ok("create", db, "--bits", "64");
        var random = new Random(5);
        var rows = new System.Text.StringBuilder();
        for (int i = 0; i < RowCount; i++)
        {
            rows.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i}\t{(ulong)random.NextInt64():x16}\n");
        }
        Ok(Utf8(rows.ToString()), "ingest", db, "-", "--format", "hex", "--progress", "none");
        return db;
    }

    /// <summary>A read-once stream of <c>prefix</c> then <c>pattern</c> repeated, <c>length</c> bytes in all, made as it is read.</summary>
    private sealed class GeneratedStream(byte[] prefix, byte[] pattern, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, length - _position);
            for (int i = 0; i < n; i++, _position++)
            {
                buffer[i] = _position < prefix.Length ? prefix[_position] : pattern[(_position - prefix.Length) % pattern.Length];
            }
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
