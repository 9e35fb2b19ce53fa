using HammingDB.Cli;
using HammingDB.Kernels;
using Xunit.Abstractions;

namespace HammingDB.Tests.Cli;

/// <summary>
/// Bad input to hdb ingest: exit 2, a message naming the source, the line (or byte offset) and the
/// problem; from a file nothing is written (the bad record is last, in a later batch than the good
/// rows, so a writer that did not check first would have written them); from stdin exactly the
/// batches before the bad one stay.
/// </summary>
public sealed class IngestBadInputTests(ITestOutputHelper output) : CliHarness(output)
{
    private const int GoodRows = 120;
    private const string Good64 = "0123456789abcdef";

    // name -> (format, input, what the message must say). The bad record follows GoodRows good ones.
    private static readonly Dictionary<string, (string Format, Func<byte[]> Input, string[] Says)> Cases = new()
    {
        ["hex short code"] = ("hex", () => HexWith("0123456789abcd"), ["line 121", "7 bytes (14 hex digits)", "64 bits"]),
        ["hex long code"] = ("hex", () => HexWith("0123456789abcdef00"), ["line 121", "9 bytes"]),
        ["hex odd length"] = ("hex", () => HexWith("0123456789abcdef0"), ["line 121", "odd number of hex digits"]),
        ["hex non-hex digit"] = ("hex", () => HexWith("0123456789abcdeX"), ["line 121", "'X' at column 16 is not a hex digit"]),
        ["hex empty line"] = ("hex", () => HexWith("", Good64), ["line 121", "empty"]),
        ["hex key then none"] = ("hex", () => Utf8("5\t" + Good64 + "\n" + Good64 + "\n"), ["line 2", "no key"]),
        ["hex bad u64 key"] = ("hex", () => Utf8("5\t" + Good64 + "\n-6\t" + Good64 + "\n"), ["line 2", "'-6' is not an unsigned 64-bit integer"]),
        ["hex overlong line"] = ("hex", () => HexWith(new string('0', (1 << 20) + 2)), ["line 121", "longer than 1048576 bytes"]),
        ["ndjson bad json"] = ("ndjson", () => JsonWith("{\"key\":1,\"code\":\"" + Good64 + "\""), ["line 121", "not valid JSON"]),
        ["ndjson not an object"] = ("ndjson", () => JsonWith("[1,2]"), ["line 121", "not a JSON object"]),
        ["ndjson trailing garbage"] = ("ndjson", () => JsonWith("{\"key\":1,\"code\":\"" + Good64 + "\"} x"), ["line 121", "not valid JSON"]),
        ["ndjson missing code"] = ("ndjson", () => JsonWith("{\"key\":1}"), ["line 121", "no \"code\""]),
        ["ndjson missing key"] = ("ndjson", () => JsonWith("{\"code\":\"" + Good64 + "\"}"), ["line 121", "no \"key\""]),
        ["ndjson string key for u64"] = ("ndjson", () => JsonWith("{\"key\":\"1\",\"code\":\"" + Good64 + "\"}"), ["line 121", "must be a JSON number", "got a string"]),
        ["ndjson negative key"] = ("ndjson", () => JsonWith("{\"key\":-1,\"code\":\"" + Good64 + "\"}"), ["line 121", "unsigned 64-bit integer; got -1"]),
        ["ndjson fractional key"] = ("ndjson", () => JsonWith("{\"key\":1.5,\"code\":\"" + Good64 + "\"}"), ["line 121", "got 1.5"]),
        ["ndjson unknown member"] = ("ndjson", () => JsonWith("{\"key\":1,\"cdoe\":\"" + Good64 + "\"}"), ["line 121", "unknown member \"cdoe\""]),
        ["ndjson duplicate member"] = ("ndjson", () => JsonWith("{\"key\":1,\"code\":\"" + Good64 + "\",\"key\":2}"), ["line 121", "\"key\" appears twice"]),
        ["ndjson payload without payloads"] = ("ndjson", () => JsonWith("{\"key\":1,\"code\":\"" + Good64 + "\",\"payload\":\"00\"}"), ["line 121", "keeps no payloads"]),
        ["ndjson code of another width"] = ("ndjson", () => JsonWith("{\"key\":1,\"code\":\"" + Good64 + Good64 + "\"}"), ["line 121", "16 bytes (32 hex digits)"]),
        ["ndjson code not a string"] = ("ndjson", () => JsonWith("{\"key\":1,\"code\":12}"), ["line 121", "\"code\" must be a JSON string"]),
        ["hdbc truncated"] = ("hdbc", () => Hdbc(64, GoodRows + 1)[..^3], ["truncated at offset 997", "says 121 codes", "inside code 120"]),
        ["hdbc other width"] = ("hdbc", () => Hdbc(128, 3), ["offset 8", "128 bits", "64-bit codes"]),
        ["hdbc bad magic"] = ("hdbc", () => [(byte)'X', .. Hdbc(64, 3)[1..]], ["offset 0", "magic"]),
        ["hdbc short header"] = ("hdbc", () => Hdbc(64, 3)[..20], ["shorter than the 32-byte header"]),
        ["hdbc bytes after the codes"] = ("hdbc", () => [.. Hdbc(64, GoodRows), 1, 2, 3], ["offset 992", "bytes follow the last of the 120 codes"]),
    };

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in Cases.Keys)
        {
            data.Add(name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Bad_input_from_a_file_exits_2_names_the_place_and_writes_nothing(string name)
    {
        var (format, input, says) = Cases[name];
        string db = PathOf("db"), file = PathOf("bad input." + format);
        File.WriteAllBytes(file, input());
        Ok("create", db, "--bits", "64");
        string message = Bad(null, "ingest", db, file, "--format", format, "--batch-rows", "50", "--progress", "json");
        Assert.Contains(file + ": ", message, StringComparison.Ordinal);
        foreach (string fragment in says)
        {
            Assert.Contains(fragment, message, StringComparison.Ordinal);
        }
        Assert.Equal(0, Rows(db));
    }

    [Fact]
    public void Bad_input_from_a_file_leaves_earlier_rows_exactly_as_they_were()
    {
        string db = PathOf("db");
        Ok("create", db, "--bits", "64");
        Ok(HexWith(Good64), "ingest", db, "--format", "hex", "--progress", "none", "--key-offset", "1000");
        string before = Ok("export", db, "--format", "ndjson").Stdout;
        // New codes for every existing key, and one bad line at the end: nothing may change.
        string file = PathOf("bad.hex");
        File.WriteAllBytes(file, Utf8(string.Concat(Enumerable.Range(500, GoodRows).Select(Code).Select(c => c + "\n")) + "zz\n"));
        Assert.Contains("line 121", Bad(null, "ingest", db, file, "--format", "hex", "--key-offset", "1000", "--batch-rows", "7"), StringComparison.Ordinal);
        Assert.Equal(before, Ok("export", db, "--format", "ndjson").Stdout);
    }

    [Theory]
    [InlineData("hex")]
    [InlineData("ndjson")]
    [InlineData("hdbc")]
    public void Bad_input_from_stdin_in_batch_two_leaves_exactly_batch_one(string format)
    {
        const int batch = 50;
        // Rows 0..74 good; row 75 (line 76, batch two) bad.
        byte[] input = format switch
        {
            "hex" => Utf8(string.Concat(Enumerable.Range(0, 75).Select(Code).Select(c => c + "\n")) + "not hex\n" + Good64 + "\n"),
            "ndjson" => Utf8(string.Concat(Enumerable.Range(0, 75).Select(i => $"{{\"key\":{i},\"code\":\"{Code(i)}\"}}\n")) + "{\"key\":75}\n"),
            _ => Hdbc(64, 76)[..(32 + 75 * 8 + 4)],
        };
        string db = PathOf("db");
        Ok("create", db, "--bits", "64");
        HdbResult result = Hdb(input, "ingest", db, "-", "--format", format, "--batch-rows", Str(batch), "--progress", "json");
        Assert.Equal(ExitCodes.BadInput, result.Exit);
        Assert.Contains("stdin: ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(format == "hdbc" ? "truncated at offset 636" : "line 76", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("50 rows of this run are durable", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("{\"durable\":50}\n", result.Stdout);
        string expected = format == "hdbc"
            ? string.Concat(Enumerable.Range(0, batch).Select(i => $"{{\"key\":{i},\"code\":\"{HexOf(HdbcCodes(64, 76)[i], 64)}\"}}\n"))
            : string.Concat(Enumerable.Range(0, batch).Select(i => $"{{\"key\":{i},\"code\":\"{Code(i)}\"}}\n"));
        Assert.Equal(expected, Ok("export", db, "--format", "ndjson").Stdout);
    }

    [Fact]
    public void Rows_a_collection_cannot_take_are_refused_before_reading()
    {
        string db = PathOf("db");
        Ok("create", db, "--bits", "64", "--key-type", "string", "--collection", "s");
        Ok("create", db, "--bits", "64", "--payloads", "--collection", "p");
        Ok("create", db, "--bits", "64", "--collection", "u");
        string hex = PathOf("in.hex");
        File.WriteAllBytes(hex, HexWith(Good64));
        Assert.Contains("line 1: the line has no key", Bad(null, "ingest", db, hex, "--collection", "s", "--format", "hex"), StringComparison.Ordinal);
        Assert.Contains("needs u64 keys", Bad(Hdbc(64, 2), "ingest", db, "--collection", "s", "--format", "hdbc"), StringComparison.Ordinal);
        Assert.Contains("only ndjson input carries payloads", Bad(null, "ingest", db, hex, "--collection", "p", "--format", "hex"), StringComparison.Ordinal);
        Assert.Contains("every ndjson row has its key", Bad(null, "ingest", db, hex, "--collection", "u", "--format", "ndjson", "--key-offset", "3"), StringComparison.Ordinal);
        Assert.Contains("past the largest u64 key", Bad(Hdbc(64, 3), "ingest", db, "--collection", "u", "--format", "hdbc", "--key-offset", "18446744073709551614"),
            StringComparison.Ordinal);
        Assert.Contains("no collection named 'default'", Bad(null, "ingest", db, hex, "--format", "hex"), StringComparison.Ordinal);
        Assert.Contains("no such file", Bad(null, "ingest", db, PathOf("absent.hex"), "--collection", "u", "--format", "hex"), StringComparison.Ordinal);
        // A 72-bit .hdbc code with a padding bit set.
        Ok("create", db, "--bits", "72", "--collection", "w");
        byte[] padded = Hdbc(72, 3);
        padded[32 + 16 + 9] = 0x01;
        string message = Bad(padded, "ingest", db, "--collection", "w", "--format", "hdbc");
        Assert.Contains("offset 48: code 1", message, StringComparison.Ordinal);
        Assert.Contains("past bit 71", message, StringComparison.Ordinal);
        foreach (string collection in new[] { "s", "p", "u", "w" })
        {
            Assert.Equal(0, Rows(db, collection));
        }
    }

    private static string Code(int i) => (0x0123456789abcdefUL + (ulong)i).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    private static byte[] HexWith(params string[] tail) =>
        Utf8(string.Concat(Enumerable.Range(0, GoodRows).Select(Code).Select(c => c + "\n")) + string.Concat(tail.Select(t => t + "\n")));

    private static byte[] JsonWith(string bad) =>
        Utf8(string.Concat(Enumerable.Range(0, GoodRows).Select(i => $"{{\"key\":{i},\"code\":\"{Code(i)}\"}}\n")) + bad + "\n");

    private static PackedCodes HdbcCodes(int bits, int count) => TestData.Codes(new Random(bits * 1000 + count), new CodeLayout(bits), count);

    private static byte[] Hdbc(int bits, int count) => HdbcBytes(HdbcCodes(bits, count));
}
