using System.Globalization;
using System.Text;
using System.Text.Json;
using HammingDB.Cli;
using Xunit.Abstractions;

namespace HammingDB.Tests.Cli;

/// <summary>
/// A 64-bit database of 70,000 rows built once through hdb: <c>hdb ingest --seal-rows 66000 --batch-rows 1000</c>
/// seals the first 66,000 rows into a segment with MIH tables (at least <see cref="DatabaseOptions.MihMinRows"/> rows),
/// and the closing seal of the ingest puts the last 4,000 into a segment without tables. The CLI leaves no
/// rows in the memtable: ingest ends with a seal and every command seals on close.
/// </summary>
public sealed class MihDatabaseFixture : IDisposable
{
    public const int Seed = 4242;
    public const int RowCount = 70_000;
    public const int SealRows = 66_000;

    public MihDatabaseFixture()
    {
        var random = new Random(Seed);
        // 300 clusters (a center and 0..6 bits flipped; many exact duplicates, so many ties), 2 rows in 5 uniform.
        Centers = Enumerable.Range(0, 300).Select(_ => NextCode(random)).ToArray();
        Codes = new ulong[RowCount];
        for (int i = 0; i < RowCount; i++)
        {
            if (random.Next(5) < 3)
            {
                ulong code = Centers[random.Next(Centers.Length)];
                for (int f = random.Next(7); f > 0; f--)
                {
                    code ^= 1UL << random.Next(64);
                }
                Codes[i] = code;
            }
            else
            {
                Codes[i] = NextCode(random);
            }
        }
        Queries =
        [
            Codes[0], Codes[12_345], Codes[SealRows - 1], Codes[SealRows], Codes[RowCount - 1], // stored codes, in both segments
            Centers[0], Centers[7],
            Codes[500] ^ 0b101, Codes[40_000] ^ (1UL << 63) ^ (1UL << 17) ^ 1, // near stored codes
            NextCode(random), NextCode(random), NextCode(random),
        ];
        Dir = Directory.CreateTempSubdirectory("hdb-cli-mih-").FullName;
        Db = Path.Combine(Dir, "db");
        Run(null, "create", Db, "--bits", "64");
        string input = Path.Combine(Dir, "codes.hex");
        File.WriteAllText(input, string.Concat(Codes.Select(c => Hex(c) + "\n")));
        Run(null, "ingest", Db, input, "--format", "hex", "--progress", "none", "--seal-rows", Str(SealRows), "--batch-rows", "1000");
        QueryFile = Path.Combine(Dir, "queries.hex");
        File.WriteAllText(QueryFile, string.Concat(Queries.Select(q => Hex(q) + "\n")));
    }

    public string Dir { get; }

    public string Db { get; }

    /// <summary>The stored codes; row i has key i (hex lines without keys).</summary>
    public ulong[] Codes { get; }

    public ulong[] Centers { get; }

    public ulong[] Queries { get; }

    /// <summary>The queries as hex lines.</summary>
    public string QueryFile { get; }

    public void Dispose() => Directory.Delete(Dir, recursive: true);

    /// <summary>The code's bytes in storage order (byte 0 first) as hex.</summary>
    public static string Hex(ulong code)
    {
        var text = new StringBuilder(16);
        for (int j = 0; j < 8; j++)
        {
            text.Append(((code >> (8 * j)) & 0xFF).ToString("x2", CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    private static ulong NextCode(Random random) => (ulong)random.NextInt64() ^ ((ulong)random.Next() << 63);

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Run(byte[]? stdin, params string[] args)
    {
        using var input = new MemoryStream(stdin ?? []);
        using var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int exit = HammingDB.Cli.Program.Run(args, input, stdout, stderr);
        if (exit != ExitCodes.Ok)
        {
            throw new InvalidOperationException($"hdb {string.Join(' ', args)} -> {exit}: {stderr}");
        }
    }
}

/// <summary>
/// hdb query --plan and hdb explain on a database whose large segment has MIH tables: every plan prints
/// the same bytes (and the brute-force answer), explain reports what each segment did, bad usage exits 2.
/// </summary>
public sealed class PlanCliTests(ITestOutputHelper output, MihDatabaseFixture data) : CliHarness(output), IClassFixture<MihDatabaseFixture>
{
    private static readonly string[] Plans = ["auto", "mih", "scan"];

    // (option, value): kNN k=1, 10 and radius 0, 3, 12.
    public static TheoryData<string, int> Searches() => new()
    {
        { "--k", 1 },
        { "--k", 10 },
        { "--radius", 0 },
        { "--radius", 3 },
        { "--radius", 12 },
    };

    [Fact]
    public void The_ingest_left_a_segment_with_mih_tables_and_one_without()
    {
        Output.WriteLine($"seed {MihDatabaseFixture.Seed}");
        JsonElement stats = JsonLines(Ok("stats", data.Db).Stdout)[0];
        Assert.Equal(MihDatabaseFixture.RowCount, stats.GetProperty("rows").GetInt64());
        Assert.Equal(2, stats.GetProperty("segments").GetInt32());
        Assert.Equal(0, stats.GetProperty("memtable_rows").GetInt64());

        JsonElement line = Assert.Single(JsonLines(Ok(Utf8(MihDatabaseFixture.Hex(data.Codes[0]) + "\n"),
            "explain", data.Db, "--format", "hex", "--k", "1", "--output", "ndjson").Stdout));
        var segments = line.GetProperty("segments").EnumerateArray().Select(s => (Rows: s.GetProperty("rows").GetInt64(), Tables: s.GetProperty("tables").GetInt32()))
            .OrderByDescending(s => s.Rows).ToList();
        Assert.Equal(2, segments.Count);
        Assert.Equal(MihDatabaseFixture.SealRows, segments[0].Rows);
        Assert.True(segments[0].Tables > 0, "the segment of 66,000 rows has MIH tables");
        Assert.Equal(MihDatabaseFixture.RowCount - MihDatabaseFixture.SealRows, segments[1].Rows);
        Assert.Equal(0, segments[1].Tables);
    }

    [Theory]
    [MemberData(nameof(Searches))]
    public void Query_prints_the_same_bytes_with_every_plan_and_the_brute_force_answer(string option, int value)
    {
        Output.WriteLine($"seed {MihDatabaseFixture.Seed}");
        byte[][] outputs = Plans.Select(plan => Ok("query", data.Db, data.QueryFile, "--format", "hex", option, Str(value), "--plan", plan).StdoutBytes).ToArray();
        Assert.Equal(outputs[0], outputs[1]);
        Assert.Equal(outputs[0], outputs[2]);
        // The default plan is auto; threads change nothing either.
        Assert.Equal(outputs[0], Ok("query", data.Db, data.QueryFile, "--format", "hex", option, Str(value)).StdoutBytes);
        Assert.Equal(outputs[0], Ok("query", data.Db, data.QueryFile, "--format", "hex", option, Str(value), "--plan", "mih", "--threads", "2").StdoutBytes);

        List<JsonElement> lines = JsonLines(Encoding.UTF8.GetString(outputs[0]));
        Assert.Equal(data.Queries.Length, lines.Count);
        for (int q = 0; q < data.Queries.Length; q++)
        {
            var all = Oracle(data.Queries[q]);
            var expected = option == "--k" ? all.Take(value) : all.TakeWhile(r => r.Distance <= value);
            Assert.Equal(q, lines[q].GetProperty("query").GetInt32());
            Assert.Equal(DatabaseCliTests.Format(expected), DatabaseCliTests.Results(lines[q]));
        }
        if (option == "--radius")
        {
            // Queries equal to stored codes find them, duplicates included.
            Assert.All(Enumerable.Range(0, 5), q => Assert.True(lines[q].GetProperty("results").GetArrayLength() >= 1));
        }
    }

    [Theory]
    [MemberData(nameof(Searches))]
    public void Explain_ndjson_reports_each_segment_and_the_result_count_of_query(string option, int value)
    {
        Output.WriteLine($"seed {MihDatabaseFixture.Seed}");
        string op = option == "--k" ? "knn" : "radius";
        string name = option == "--k" ? "k" : "radius";
        List<int> counts = JsonLines(Ok("query", data.Db, data.QueryFile, "--format", "hex", option, Str(value)).Stdout)
            .Select(l => l.GetProperty("results").GetArrayLength()).ToList();
        string[] topNames = ["query", "op", name, "plan", "cost_model", "memtable_rows", "results", "elapsed_us", "segments"];
        string[] segmentNames = ["segment", "rows", "tables", "plan", "reason", "estimated_mih_us", "estimated_scan_us", "probes", "candidates", "rings",
            "rows_scanned", "found", "elapsed_us"];
        foreach (string plan in Plans)
        {
            List<JsonElement> lines = JsonLines(Ok("explain", data.Db, data.QueryFile, "--format", "hex", option, Str(value), "--plan", plan, "--output", "ndjson").Stdout);
            Assert.Equal(data.Queries.Length, lines.Count);
            for (int q = 0; q < lines.Count; q++)
            {
                JsonElement line = lines[q];
                Assert.Equal(topNames, line.EnumerateObject().Select(p => p.Name));
                Assert.Equal(q, line.GetProperty("query").GetInt32());
                Assert.Equal(op, line.GetProperty("op").GetString());
                Assert.Equal(value, line.GetProperty(name).GetInt32());
                Assert.Equal(plan, line.GetProperty("plan").GetString());
                Assert.False(string.IsNullOrEmpty(line.GetProperty("cost_model").GetString()));
                Assert.Equal(0, line.GetProperty("memtable_rows").GetInt64());
                Assert.Equal(counts[q], line.GetProperty("results").GetInt32());
                Assert.True(line.GetProperty("elapsed_us").GetDouble() >= 0);

                List<JsonElement> segments = line.GetProperty("segments").EnumerateArray().ToList();
                Assert.Equal(2, segments.Count);
                Assert.Equal(2, segments.Select(s => s.GetProperty("segment").GetInt64()).Distinct().Count());
                Assert.Equal(MihDatabaseFixture.RowCount, segments.Sum(s => s.GetProperty("rows").GetInt64()));
                Assert.Contains(segments, s => s.GetProperty("tables").GetInt32() > 0);
                foreach (JsonElement s in segments)
                {
                    Assert.Equal(segmentNames, s.EnumerateObject().Select(p => p.Name));
                    string segmentPlan = s.GetProperty("plan").GetString()!;
                    long rows = s.GetProperty("rows").GetInt64(), scanned = s.GetProperty("rows_scanned").GetInt64();
                    bool tables = s.GetProperty("tables").GetInt32() > 0;
                    Assert.False(string.IsNullOrEmpty(s.GetProperty("reason").GetString()), s.ToString());
                    Assert.True(s.GetProperty("estimated_mih_us").ValueKind is JsonValueKind.Null or JsonValueKind.Number);
                    Assert.Equal(JsonValueKind.Number, s.GetProperty("estimated_scan_us").ValueKind);
                    Assert.True(s.GetProperty("elapsed_us").GetDouble() >= 0);
                    Assert.True(s.GetProperty("found").GetInt32() >= 0);
                    Assert.Contains(segmentPlan, new[] { "mih", "scan", "mih+scan" });
                    if (plan == "scan" || !tables)
                    {
                        Assert.Equal("scan", segmentPlan);
                        Assert.Equal(rows, scanned);
                        Assert.Equal(0, s.GetProperty("probes").GetInt64());
                        Assert.Equal(0, s.GetProperty("candidates").GetInt64());
                    }
                    else if (plan == "mih")
                    {
                        Assert.Equal("mih", segmentPlan);
                        Assert.Equal(0, scanned);
                        Assert.True(s.GetProperty("probes").GetInt64() > 0, s.ToString());
                    }
                    else
                    {
                        Assert.Equal(segmentPlan == "mih" ? 0 : rows, scanned);
                    }
                }
                if (op == "radius")
                {
                    // No row is deleted or in the memtable: the segments' finds are the results.
                    Assert.Equal(counts[q], segments.Sum(s => s.GetProperty("found").GetInt32()));
                }
            }
        }
    }

    [Fact]
    public void Explain_table_output_shows_every_query_and_segment()
    {
        Output.WriteLine($"seed {MihDatabaseFixture.Seed}");
        JsonElement line = Assert.Single(JsonLines(Ok(Utf8(MihDatabaseFixture.Hex(data.Codes[3]) + "\n"),
            "explain", data.Db, "--format", "hex", "--k", "1", "--output", "ndjson").Stdout));
        long[] numbers = line.GetProperty("segments").EnumerateArray().Select(s => s.GetProperty("segment").GetInt64()).ToArray();
        foreach (string plan in Plans)
        {
            string table = Ok("explain", data.Db, data.QueryFile, "--format", "hex", "--radius", "3", "--plan", plan).Stdout;
            Assert.DoesNotContain('\u001b', table); // no colour codes in a file or pipe
            for (int q = 0; q < data.Queries.Length; q++)
            {
                Assert.Contains($"query {Str(q)}: radius r=3, plan {plan},", table, StringComparison.Ordinal);
            }
            // One row per segment and query, starting with the segment number and its row count.
            foreach (long number in numbers)
            {
                long rows = line.GetProperty("segments").EnumerateArray().Single(s => s.GetProperty("segment").GetInt64() == number).GetProperty("rows").GetInt64();
                int count = table.Split('\n').Count(row => row.Replace('│', ' ').Split(' ', StringSplitOptions.RemoveEmptyEntries) is [var first, var second, ..]
                    && first == Str(number) && second == Str(rows));
                Assert.Equal(data.Queries.Length, count);
            }
        }
    }

    [Fact]
    public void Rows_in_the_memtable_are_found_by_every_plan_and_counted_by_explain()
    {
        // hdb's writing commands leave no row in the memtable (ingest ends with a seal, they seal on close), so the
        // rows are logged through the library with SealOnClose off: the next hdb command replays them into its memtable.
        // query and explain open read-only and seal nothing: each round first seals the rows of the round before.
        Output.WriteLine($"seed {MihDatabaseFixture.Seed}");
        string db = PathOf("db");
        CopyDirectory(data.Db, db);
        var rows = data.Codes.Select((code, i) => (Key: (ulong)i, Code: code)).ToList();
        ulong nextKey = 1_000_000;
        // Two rows near each query: the query itself and the query with one bit flipped.
        void LogRows()
        {
            using var database = HammingDatabase.Open(db, new DatabaseOptions { SealOnClose = false });
            database.Flush();
            HammingCollection<ulong> collection = database.GetCollection<ulong>("default");
            for (int q = 0; q < data.Queries.Length; q++)
            {
                foreach (ulong code in new[] { data.Queries[q], data.Queries[q] ^ (1UL << (q * 5)) })
                {
                    collection.Upsert(nextKey, [code]);
                    rows.Add((nextKey++, code));
                }
            }
        }

        foreach (string plan in Plans)
        {
            LogRows();
            List<JsonElement> explained = JsonLines(Ok("explain", db, data.QueryFile, "--format", "hex", "--radius", "3", "--plan", plan, "--output", "ndjson").Stdout);
            for (int q = 0; q < data.Queries.Length; q++)
            {
                Assert.Equal(2 * data.Queries.Length, explained[q].GetProperty("memtable_rows").GetInt64());
                Assert.Equal(Oracle(rows, data.Queries[q]).Count(r => r.Distance <= 3), explained[q].GetProperty("results").GetInt32());
            }
            foreach ((string option, int value) in new[] { ("--k", 10), ("--radius", 3) })
            {
                LogRows();
                List<JsonElement> lines = JsonLines(Ok("query", db, data.QueryFile, "--format", "hex", option, Str(value), "--plan", plan).Stdout);
                for (int q = 0; q < data.Queries.Length; q++)
                {
                    var all = Oracle(rows, data.Queries[q]);
                    Assert.Equal(DatabaseCliTests.Format(option == "--k" ? all.Take(value) : all.TakeWhile(r => r.Distance <= value)), DatabaseCliTests.Results(lines[q]));
                }
            }
        }
    }

    [Fact]
    public void Bad_usage_of_query_and_explain_exits_2_with_a_message()
    {
        string db = data.Db, queries = data.QueryFile;
        foreach (string command in new[] { "query", "explain" })
        {
            string plan = Bad(null, command, db, queries, "--format", "hex", "--k", "1", "--plan", "fast");
            Assert.Contains("'fast' not recognized", plan, StringComparison.Ordinal);
            Assert.Contains("'mih'", plan, StringComparison.Ordinal);
            Assert.Contains("exactly one of --k and --radius", Bad(null, command, db, queries, "--format", "hex", "--k", "1", "--radius", "2"), StringComparison.Ordinal);
            Assert.Contains("exactly one of --k and --radius", Bad(null, command, db, queries, "--format", "hex"), StringComparison.Ordinal);
            Assert.Contains("--k must be at least 1; got 0", Bad(null, command, db, queries, "--format", "hex", "--k", "0"), StringComparison.Ordinal);
            Assert.Contains("--radius must not be negative; got -1", Bad(null, command, db, queries, "--format", "hex", "--radius=-1"), StringComparison.Ordinal);

            // A 32-bit code on line 3 of a 64-bit collection's queries: the message names the line.
            byte[] wrongWidth = Utf8($"{MihDatabaseFixture.Hex(data.Codes[0])}\n{MihDatabaseFixture.Hex(data.Codes[1])}\n0011aabb\n");
            string stderr = Bad(wrongWidth, command, db, "-", "--format", "hex", "--radius", "3");
            Assert.Contains("line 3: the code is 4 bytes (8 hex digits) but the collection's codes are 64 bits", stderr, StringComparison.Ordinal);
            string ndjson = Bad(Utf8("{\"code\":\"0011aabb\"}\n"), command, db, "--format", "ndjson", "--k", "1");
            Assert.Contains("line 1", ndjson, StringComparison.Ordinal);
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        foreach (string directory in Directory.GetDirectories(from))
        {
            CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
        }
    }

    private List<(ulong Key, int Distance)> Oracle(ulong query) =>
        Oracle(data.Codes.Select((code, i) => (Key: (ulong)i, Code: code)), query);

    // Every row by (distance, key); the distance by bytes (TestData), independent of the kernels.
    private static List<(ulong Key, int Distance)> Oracle(IEnumerable<(ulong Key, ulong Code)> rows, ulong query)
    {
        var all = rows.Select(r => (r.Key, Distance: TestData.OracleDistance([r.Code], [query]))).ToList();
        all.Sort((a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Key.CompareTo(b.Key));
        return all;
    }
}
