using System.Globalization;
using System.Text;
using System.Text.Json;
using HammingDB.Cli;
using HammingDB.Kernels;
using Xunit.Abstractions;

namespace HammingDB.Tests.Cli;

/// <summary>
/// The hdb database commands end to end, in process: create, ingest (each format, from a file and
/// from stdin), query against a brute-force oracle, get, delete, stats, compact, export, progress.
/// </summary>
public sealed class DatabaseCliTests(ITestOutputHelper output) : CliHarness(output)
{
    // hex-keyed and ndjson rows get shuffled keys, so that ties ordered by key differ from ties by row.
    [Theory]
    [InlineData("hdbc", false, 64)]
    [InlineData("hdbc", true, 128)]
    [InlineData("hex", false, 72)]
    [InlineData("hex", true, 64)]
    [InlineData("hex-keyed", false, 256)]
    [InlineData("ndjson", false, 64)]
    [InlineData("ndjson", true, 136)]
    public void Ingested_rows_are_found_exactly_as_a_brute_force_search_finds_them(string format, bool stdin, int bits)
    {
        int seed = 1000 + bits + (stdin ? 1 : 0) + format.Length;
        Output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        PackedCodes codes = TestData.Codes(random, layout, 400, pool: 12);
        PackedCodes queries = TestData.Codes(random, layout, 6, pool: 12);
        const ulong offset = 1_000_000;
        bool numbered = format is "hdbc" or "hex";
        ulong[] keys = numbered
            ? Enumerable.Range(0, codes.Count).Select(i => offset + (ulong)i).ToArray()
            : Enumerable.Range(0, codes.Count).Select(i => (ulong)i * 7 + 3).OrderBy(_ => random.Next()).ToArray();
        byte[] input = format switch
        {
            "hdbc" => HdbcBytes(codes),
            "hex" => Utf8(string.Concat(Enumerable.Range(0, codes.Count).Select(i => HexOf(codes[i], bits) + "\n"))),
            "hex-keyed" => Utf8(string.Concat(Enumerable.Range(0, codes.Count).Select(i => $"{keys[i]}\t{HexOf(codes[i], bits).ToUpperInvariant()}\r\n"))),
            _ => Utf8(string.Concat(Enumerable.Range(0, codes.Count).Select(i => $"{{\"code\": \"{HexOf(codes[i], bits)}\", \"key\": {keys[i]}}}\n"))),
        };
        string db = PathOf("db");
        Ok("create", db, "--bits", Str(bits));
        string[] ingest = ["ingest", db, stdin ? "-" : WriteFile("input", input), "--format", format == "hex-keyed" ? "hex" : format, "--progress", "none", "--batch-rows", "150"];
        if (numbered)
        {
            ingest = [.. ingest, "--key-offset", Str((long)offset)];
        }
        HdbResult ingested = Ok(stdin ? input : null, ingest);
        Assert.Equal(codes.Count, JsonLines(ingested.Stdout)[^1].GetProperty("ingested").GetInt64());

        string queryFile = WriteFile("queries.hex", Utf8(string.Concat(Enumerable.Range(0, queries.Count).Select(j => HexOf(queries[j], bits) + "\n"))));
        var rows = Enumerable.Range(0, codes.Count).Select(i => (Key: keys[i], Code: codes[i].ToArray())).ToList();
        List<JsonElement> knn = JsonLines(Ok("query", db, queryFile, "--format", "hex", "--k", "7").Stdout);
        List<JsonElement> radius = JsonLines(Ok(HdbcBytes(queries), "query", db, "-", "--format", "hdbc", "--radius", Str(bits / 3)).Stdout);
        Assert.Equal(queries.Count, knn.Count);
        Assert.Equal(queries.Count, radius.Count);
        for (int j = 0; j < queries.Count; j++)
        {
            var all = Oracle(rows, queries[j]);
            Assert.Equal(j, knn[j].GetProperty("query").GetInt32());
            Assert.Equal(Format(all.Take(7)), Results(knn[j]));
            Assert.Equal(Format(all.Where(r => r.Distance <= bits / 3)), Results(radius[j]));
        }
    }

    [Fact]
    public void Knn_ties_are_ordered_by_key_not_by_insertion()
    {
        // Every code equal: all distances tie, so the k nearest are the k smallest keys.
        string db = PathOf("db");
        Ok("create", db, "--bits", "64");
        ulong[] keys = [90, 5, 77, 12, 3, 40];
        string input = string.Concat(keys.Select(k => $"{k}\t00000000000000ff\n"));
        Ok(Utf8(input), "ingest", db, "-", "--format", "hex", "--progress", "none", "--batch-rows", "2");
        string result = Ok(Utf8("00000000000000fe\n"), "query", db, "--format", "hex", "--k", "3").Stdout;
        Assert.Equal("{\"query\":0,\"results\":[{\"key\":3,\"distance\":1},{\"key\":5,\"distance\":1},{\"key\":12,\"distance\":1}]}\n", result);
    }

    [Fact]
    public void Query_outputs_agree_and_threads_keep_query_order()
    {
        const int seed = 31;
        Output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(64);
        PackedCodes codes = TestData.Codes(random, layout, 300, pool: 5);
        string db = PathOf("db");
        Ok("create", db, "--bits", "64");
        Ok(HdbcBytes(codes), "ingest", db, "--format", "hdbc", "--progress", "none");
        string queries = WriteFile("q.ndjson", Utf8(string.Concat(Enumerable.Range(0, 40).Select(j => $"{{\"key\":\"ignored\",\"code\":\"{HexOf(codes[j * 7], 64)}\"}}\n"))));

        string one = Ok("query", db, queries, "--format", "ndjson", "--k", "4").Stdout;
        string two = Ok("query", db, queries, "--format", "ndjson", "--k", "4", "--threads", "2").Stdout;
        Assert.Equal(one, two);
        List<JsonElement> lines = JsonLines(one);
        Assert.Equal(40, lines.Count);

        using JsonDocument array = JsonDocument.Parse(Ok("query", db, queries, "--format", "ndjson", "--k", "4", "--output", "json", "--threads", "2").Stdout);
        Assert.Equal(lines.Select(l => l.GetRawText()), array.RootElement.EnumerateArray().Select(e => e.GetRawText()));

        string[] csv = Ok("query", db, queries, "--format", "ndjson", "--k", "4", "--output", "csv").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("query,key,distance", csv[0]);
        var expected = lines.SelectMany(l => l.GetProperty("results").EnumerateArray().Select(r =>
            $"{l.GetProperty("query").GetInt32()},{r.GetProperty("key").GetUInt64()},{r.GetProperty("distance").GetInt32()}"));
        Assert.Equal(expected, csv.Skip(1));

        string table = Ok("query", db, queries, "--format", "ndjson", "--k", "1", "--output", "table").Stdout;
        Assert.Contains("distance", table, StringComparison.Ordinal);
        Assert.Equal(40 + 4, table.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // 3 border lines, header, 40 rows

        Assert.Equal("[]\n", Ok([], "query", db, "--format", "hex", "--k", "1", "--output", "json").Stdout);
    }

    [Fact]
    public void String_keys_with_payloads_round_trip_through_get_query_and_export()
    {
        string db = PathOf("db");
        Ok("create", db, "--bits", "64", "--key-type", "string", "--payloads", "--collection", "docs");
        string input =
            "{\"key\":\"zeta\",\"code\":\"ffffffffffffffff\",\"payload\":\"\"}\n" +
            "{\"key\":\"alpha, \\\"quoted\\\"\",\"code\":\"0000000000000000\",\"payload\":\"00ff10\"}\n" +
            "{\"key\":\"\\u00e9t\\u00e9\",\"code\":\"0f00000000000000\",\"payload\":\"ABCD\"}\n";
        Ok(Utf8(input), "ingest", db, "--collection", "docs", "--format", "ndjson", "--progress", "none");

        string got = Ok("get", db, "--collection", "docs", "été", "nothing", "zeta").Stdout;
        Assert.Equal(
            "{\"key\":\"été\",\"code\":\"0f00000000000000\",\"payload\":\"abcd\"}\n" +
            "{\"key\":\"nothing\",\"found\":false}\n" +
            "{\"key\":\"zeta\",\"code\":\"ffffffffffffffff\",\"payload\":\"\"}\n", got);

        string csv = Ok(Utf8("0000000000000000\n"), "query", db, "--collection", "docs", "--format", "hex", "--k", "2", "--output", "csv").Stdout;
        Assert.Equal("query,key,distance\n0,\"alpha, \"\"quoted\"\"\",0\n0,été,4\n", csv);

        string export = Ok("export", db, "--collection", "docs", "--format", "ndjson").Stdout;
        Assert.Equal(
            "{\"key\":\"alpha, \\\"quoted\\\"\",\"code\":\"0000000000000000\",\"payload\":\"00ff10\"}\n" +
            "{\"key\":\"zeta\",\"code\":\"ffffffffffffffff\",\"payload\":\"\"}\n" +
            "{\"key\":\"été\",\"code\":\"0f00000000000000\",\"payload\":\"abcd\"}\n", export);
    }

    [Fact]
    public void Guid_keys_from_keyed_hex_lines()
    {
        string db = PathOf("db");
        Ok("create", db, "--bits", "16", "--key-type", "guid");
        var a = Guid.Parse("00000000-0000-0000-0000-0000000000b1");
        var b = Guid.Parse("ffffffff-0000-0000-0000-000000000000");
        Ok(Utf8($"{b:B}\t0100\n{a:N}\t0200\n"), "ingest", db, "--format", "hex", "--progress", "none");
        Assert.Equal($"{{\"query\":0,\"results\":[{{\"key\":\"{a:D}\",\"distance\":1}},{{\"key\":\"{b:D}\",\"distance\":1}}]}}\n",
            Ok(Utf8("{\"code\":\"0000\"}\n{\"code\":\"0100\"}\n"), "query", db, "--format", "ndjson", "--k", "2").Stdout.Split('\n')[0] + "\n");
        Assert.Equal($"{{\"key\":\"{b:D}\",\"code\":\"0100\"}}\n", Ok("get", db, b.ToString("D")).Stdout);
        Assert.Contains("not a GUID", Bad(null, "get", db, "not-a-guid"), StringComparison.Ordinal);
    }

    [Fact]
    public void Get_delete_stats_compact_and_export_agree_with_a_model()
    {
        const int seed = 57;
        Output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(64);
        string db = PathOf("db");
        Ok("create", db, "--bits", "64");
        var model = new SortedDictionary<ulong, ulong[]>();
        // Two ingests (each ends with a seal: two segments), the second replacing some keys of the first.
        for (int round = 0; round < 2; round++)
        {
            var text = new StringBuilder();
            for (int i = 0; i < 200; i++)
            {
                ulong key = (ulong)(round * 150 + i);
                ulong[] code = TestData.RandomCode(random, layout);
                model[key] = code;
                text.Append(CultureInfo.InvariantCulture, $"{{\"key\":{key},\"code\":\"{HexOf(code, 64)}\"}}\n");
            }
            Ok(Utf8(text.ToString()), "ingest", db, "--format", "ndjson", "--progress", "none", "--batch-rows", "64");
        }
        Assert.Equal(350, Rows(db));

        string keysFile = WriteFile("keys.txt", Utf8("10\n20\n999\n"));
        Assert.Equal("{\"deleted\":3,\"missing\":2}\n", Ok("delete", db, "5", "10", "998", "--keys-file", keysFile).Stdout);
        foreach (ulong key in new ulong[] { 5, 10, 20 })
        {
            model.Remove(key);
        }
        Assert.Equal("{\"key\":10,\"found\":false}\n" + $"{{\"key\":11,\"code\":\"{HexOf(model[11], 64)}\"}}\n", Ok("get", db, "10", "11").Stdout);
        Assert.Equal("{\"key\":5,\"found\":false}\n", Ok(Utf8("5"), "get", db, "--keys-file", "-").Stdout);

        JsonElement stats = JsonLines(Ok("stats", db).Stdout)[0];
        Assert.Equal("default", stats.GetProperty("name").GetString());
        Assert.Equal(64, stats.GetProperty("bits").GetInt32());
        Assert.Equal("u64", stats.GetProperty("key_type").GetString());
        Assert.Equal(347, stats.GetProperty("rows").GetInt64());
        Assert.Equal(2, stats.GetProperty("segments").GetInt32());
        Assert.Equal(400, stats.GetProperty("segment_rows").GetInt64() + stats.GetProperty("memtable_rows").GetInt64());
        Assert.True(stats.GetProperty("bytes").GetInt64() > 0);
        Assert.True(stats.GetProperty("deleted").GetInt64() >= 50, "the 50 replaced rows of the first segment");

        JsonElement compact = JsonLines(Ok("compact", db).Stdout)[0];
        Assert.Equal(stats.GetRawText(), compact.GetProperty("before")[0].GetRawText());
        JsonElement after = compact.GetProperty("after")[0];
        Assert.Equal(347, after.GetProperty("rows").GetInt64());
        Assert.Equal(0, after.GetProperty("deleted").GetInt64());
        Assert.True(after.GetProperty("segments").GetInt32() <= 1);

        string expected = string.Concat(model.Select(p => $"{{\"key\":{p.Key},\"code\":\"{HexOf(p.Value, 64)}\"}}\n"));
        Assert.Equal(expected, Ok("export", db, "--format", "ndjson").Stdout);
        Assert.Equal(after.GetRawText(), Assert.Single(JsonLines(Ok("stats", db, "--all").Stdout)).GetRawText());
    }

    [Fact]
    public void Export_ndjson_ingested_into_a_new_database_exports_the_same_bytes_and_hdbc_holds_the_codes_in_key_order()
    {
        const int seed = 88;
        Output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(96);
        string first = PathOf("first"), second = PathOf("second");
        Ok("create", first, "--bits", "96", "--payloads");
        var text = new StringBuilder();
        var model = new SortedDictionary<ulong, ulong[]>();
        for (int i = 0; i < 300; i++)
        {
            ulong key = (ulong)random.NextInt64(0, 1L << 40);
            model[key] = TestData.RandomCode(random, layout);
            byte[] payload = new byte[random.Next(0, 6)];
            random.NextBytes(payload);
            text.Append(CultureInfo.InvariantCulture, $"{{\"key\":{key},\"code\":\"{HexOf(model[key], 96)}\",\"payload\":\"{Convert.ToHexString(payload)}\"}}\n");
        }
        Ok(Utf8(text.ToString()), "ingest", first, "--format", "ndjson", "--progress", "none", "--batch-rows", "100");
        string exported = PathOf("first.ndjson");
        Ok("export", first, "--format", "ndjson", "--output", exported);

        Ok("create", second, "--bits", "96", "--payloads");
        Ok("ingest", second, exported, "--format", "ndjson", "--progress", "none");
        HdbResult again = Ok("export", second, "--format", "ndjson");
        Assert.Equal(File.ReadAllBytes(exported), again.StdoutBytes);
        Assert.Equal(model.Count, again.Stdout.Count(c => c == '\n'));

        HdbResult hdbc = Ok("export", second, "--format", "hdbc");
        string hdbcPath = WriteFile("second.hdbc", hdbc.StdoutBytes);
        PackedCodes codes = HdbcFile.Read(hdbcPath);
        Assert.Equal(model.Values.Select(c => HexOf(c, 96)), Enumerable.Range(0, codes.Count).Select(i => HexOf(codes[i], 96)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Progress_json_lines_are_exact_monotonic_and_end_at_the_row_count(bool stdin)
    {
        const int seed = 5;
        Output.WriteLine($"seed {seed}");
        PackedCodes codes = TestData.Codes(new Random(seed), new CodeLayout(64), 1000);
        string db = PathOf("db");
        Ok("create", db, "--bits", "64");
        byte[] input = HdbcBytes(codes);
        string[] lines = Ok(stdin ? input : null, "ingest", db, stdin ? "-" : WriteFile("in.hdbc", input), "--format", "hdbc", "--progress", "json", "--batch-rows", "128")
            .Stdout.Split('\n');
        string[] expected = [.. Enumerable.Range(1, 7).Select(b => $"{{\"durable\":{b * 128}}}"), "{\"durable\":1000}"];
        Assert.Equal(expected, lines[..8]);
        JsonElement summary = JsonDocument.Parse(lines[8]).RootElement;
        Assert.Equal(1000, summary.GetProperty("ingested").GetInt64());
        Assert.True(summary.GetProperty("rows_per_s").GetDouble() > 0);
        Assert.Equal("", lines[9]);
        Assert.Equal(10, lines.Length);
        Assert.Equal(1000, Rows(db));
    }

    [Fact]
    public void Plain_progress_goes_to_stderr_and_stdout_has_only_the_summary()
    {
        string db = PathOf("db");
        Ok("create", db, "--bits", "8");
        HdbResult result = Ok(Utf8("01\n02\n03\n"), "ingest", db, "--format", "hex", "--progress", "plain");
        Assert.Contains("3 rows durable", result.Stderr, StringComparison.Ordinal);
        Assert.Single(JsonLines(result.Stdout));
        Assert.Equal(3, JsonLines(result.Stdout)[0].GetProperty("ingested").GetInt64());
    }

    [Fact]
    public void Usage_errors_exit_2()
    {
        string db = PathOf("db");
        Ok("create", db, "--bits", "64");
        Assert.Contains("exists already", Bad(null, "create", db, "--bits", "64"), StringComparison.Ordinal);
        Assert.Contains("--bits must be a multiple of 8", Bad(null, "create", PathOf("other"), "--bits", "12"), StringComparison.Ordinal);
        Assert.False(Directory.Exists(PathOf("other")));
        Assert.Contains("exactly one of --k and --radius", Bad(null, "query", db, "--format", "hex"), StringComparison.Ordinal);
        Assert.Contains("--batch-rows must be at least 1", Bad(null, "ingest", db, "--format", "hex", "--batch-rows", "0"), StringComparison.Ordinal);
        Assert.Contains("not both", Bad(null, "stats", db, "--all", "--collection", "default"), StringComparison.Ordinal);
        Assert.Contains("no collection named 'nope' (it has 'default')", Bad(null, "stats", db, "--collection", "nope"), StringComparison.Ordinal);
        Assert.Contains("no database there", Bad(null, "query", PathOf("missing"), "--format", "hex", "--k", "1"), StringComparison.Ordinal);
        Assert.False(Directory.Exists(PathOf("missing")));
        Assert.Contains("at least one KEY", Bad(null, "get", db), StringComparison.Ordinal);
        Assert.Contains("not an unsigned 64-bit integer", Bad(null, "delete", db, "12", "-3"), StringComparison.Ordinal);
        Assert.Contains("'csv'", Bad(null, "export", db, "--format", "csv"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_writer_is_refused_with_exit_3()
    {
        string db = PathOf("db");
        Ok("create", db, "--bits", "64");
        using (HammingDatabase.Open(db))
        {
            HdbResult ingest = Hdb(Utf8("00000000000000ff\n"), "ingest", db, "--format", "hex", "--progress", "none");
            Assert.Equal(ExitCodes.StorageError, ingest.Exit);
            Assert.Contains("locked by another writer", ingest.Stderr, StringComparison.Ordinal);
            Assert.Equal(ExitCodes.StorageError, Hdb("stats", db).Exit);
        }
        Assert.Equal(0, Rows(db));
    }

    private string WriteFile(string name, byte[] content)
    {
        string path = PathOf(name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static List<(ulong Key, int Distance)> Oracle(List<(ulong Key, ulong[] Code)> rows, ReadOnlySpan<ulong> query)
    {
        var all = new List<(ulong Key, int Distance)>();
        foreach (var (key, code) in rows)
        {
            all.Add((key, TestData.OracleDistance(code, query)));
        }
        all.Sort((a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Key.CompareTo(b.Key));
        return all;
    }

    internal static string Format(IEnumerable<(ulong Key, int Distance)> results) =>
        string.Join(' ', results.Select(r => $"{r.Key}:{r.Distance}"));

    internal static string Results(JsonElement line) =>
        string.Join(' ', line.GetProperty("results").EnumerateArray().Select(r => $"{r.GetProperty("key").GetUInt64()}:{r.GetProperty("distance").GetInt32()}"));
}
