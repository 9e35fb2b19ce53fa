using System.Text;
using System.Text.Json;
using HammingDB.Cli;
using HammingDB.Cli.Input;
using HammingDB.Kernels;
using Xunit.Abstractions;

namespace HammingDB.Tests.Cli;

/// <summary>The input layer of hdb alone: hex, line framing across buffer boundaries, ndjson records, .hdbc streams, keys.</summary>
public sealed class IngestParsingTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(8)]
    [InlineData(64)]
    [InlineData(72)]
    [InlineData(200)]
    [InlineData(1024)]
    public void Hex_is_the_codes_bytes_in_storage_order(int bits)
    {
        int seed = bits;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        var bytes = new byte[bits / 8];
        random.NextBytes(bytes);
        var packed = new PackedCodes(layout, 1);
        packed.AddBytes(bytes);
        var code = new ulong[layout.WordsPerCode];
        code.AsSpan().Fill(ulong.MaxValue); // padding must come out zero
        Hex.DecodeCode(Encoding.ASCII.GetBytes(Convert.ToHexString(bytes)), layout, code, column: 1);
        Assert.Equal(packed[0].ToArray(), code);
        Span<char> chars = stackalloc char[2 * bytes.Length];
        Assert.Equal(Convert.ToHexStringLower(bytes), Hex.Encode(Hex.CodeBytes(code, bits, new ulong[code.Length]), chars).ToString());
    }

    [Fact]
    public async Task Lines_straddling_buffers_arrive_whole_with_crlf_and_a_missing_last_newline()
    {
        string[] lines = ["first", "", "a longer line " + new string('x', 70_000), "crlf", "last"];
        string text = string.Join("\n", lines[..3]) + "\ncrlf\r\nlast";
        var seen = new Collector();
        // One byte per read: every line crosses buffer segments.
        await LineReader.ReadAsync(new TrickleStream(Encoding.UTF8.GetBytes(text), 1), "test", seen);
        Assert.Equal(lines, seen.Lines);
        Assert.Equal([1L, 2, 3, 4, 5], seen.Numbers);
    }

    [Fact]
    public async Task A_line_of_exactly_one_MiB_is_read_and_one_byte_more_is_refused()
    {
        var seen = new Collector();
        byte[] exact = Encoding.ASCII.GetBytes(new string('a', LineReader.MaxLineBytes) + "\r\nb");
        await LineReader.ReadAsync(new TrickleStream(exact, 100_000), "test", seen);
        Assert.Equal(LineReader.MaxLineBytes, seen.Lines[0].Length);
        Assert.Equal("b", seen.Lines[1]);

        byte[] over = Encoding.ASCII.GetBytes("ok\n" + new string('a', LineReader.MaxLineBytes + 1));
        var e = await Assert.ThrowsAsync<InputException>(() => LineReader.ReadAsync(new TrickleStream(over, 100_000), "src", new Collector()));
        Assert.StartsWith("src: line 2: the line is longer than", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ndjson_rows_accept_any_member_order_white_space_and_escapes()
    {
        var layout = new CodeLayout(16);
        var code = new ulong[1];
        ulong key = NdjsonRecord.ParseRow(" { \"payload\" : \"0A\" , \"code\":\"\\u0030102\", \"key\": 18446744073709551615 } "u8, layout, code, UInt64KeyFormat.Instance, out byte[]? payload);
        Assert.Equal(ulong.MaxValue, key);
        Assert.Equal(0x0201UL, code[0]);
        Assert.Equal(new byte[] { 10 }, payload);

        string text = NdjsonRecord.ParseRow("{\"key\":\"tab\\tand \\ud83d\\ude00\",\"code\":\"ffff\"}"u8, layout, code, StringKeyFormat.Instance, out payload);
        Assert.Equal("tab\tand \U0001F600", text);
        Assert.Null(payload);

        var guid = Guid.NewGuid();
        Assert.Equal(guid, NdjsonRecord.ParseRow(Encoding.UTF8.GetBytes($"{{\"key\":\"{guid:B}\",\"code\":\"ffff\"}}"), layout, code, GuidKeyFormat.Instance, out _));

        NdjsonRecord.ParseQuery("{\"key\":{\"nested\":[1,2]},\"code\":\"0100\",\"extra\":null}"u8, layout, code);
        Assert.Equal(1UL, code[0]);
    }

    [Theory]
    [InlineData("{\"key\":1e3,\"code\":\"0000\"}", "unsigned 64-bit integer; got 1e3")]
    [InlineData("{\"key\":18446744073709551616,\"code\":\"0000\"}", "got 18446744073709551616")]
    [InlineData("{\"key\":null,\"code\":\"0000\"}", "got null")]
    [InlineData("{\"key\":1,\"code\":\"0000\"", "not valid JSON")]
    [InlineData("{\"key\":1,\"code\":\"0000\",}", "not valid JSON")]
    [InlineData("{\"key\":1,\"code\":\"00 0\"}", "byte 0x20 at column 20")]
    [InlineData("{\"key\":1,\"code\":\"0000\",\"payload\":\"abc\"}", "payload has an odd number")]
    [InlineData("{\"key\":1,\"code\":\"0000\",\"payload\":7}", "\"payload\" must be a JSON string")]
    [InlineData("", "empty")]
    public void Bad_ndjson_rows_say_what_is_wrong(string line, string says)
    {
        var e = Assert.Throws<RecordException>(() =>
            NdjsonRecord.ParseRow(Encoding.UTF8.GetBytes(line), new CodeLayout(16), new ulong[1], UInt64KeyFormat.Instance, out _));
        Assert.Contains(says, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", 0UL)]
    [InlineData("18446744073709551615", ulong.MaxValue)]
    [InlineData("18446744073709551616", null)]
    [InlineData("99999999999999999999", null)]
    [InlineData("+1", null)]
    [InlineData(" 1", null)]
    [InlineData("", null)]
    [InlineData("1.0", null)]
    public void U64_keys_are_decimal_digits_only(string text, ulong? expected)
    {
        if (expected is { } value)
        {
            Assert.Equal(value, UInt64KeyFormat.Instance.ParseText(text));
        }
        else
        {
            Assert.Throws<RecordException>(() => UInt64KeyFormat.Instance.ParseText(text));
        }
    }

    [Fact]
    public void String_keys_must_be_valid_utf8()
    {
        Assert.Equal("é", StringKeyFormat.Instance.ParseText([0xC3, 0xA9]));
        Assert.Contains("not valid UTF-8", Assert.Throws<RecordException>(() => StringKeyFormat.Instance.ParseText([0xC3])).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(64, 1)]
    [InlineData(200, 7)]
    public async Task Hdbc_streams_deliver_what_the_file_reader_reads_whatever_the_chunking(int bits, int chunk)
    {
        int seed = bits + chunk;
        output.WriteLine($"seed {seed}");
        PackedCodes codes = TestData.Codes(new Random(seed), new CodeLayout(bits), 500);
        string path = Path.GetTempFileName();
        try
        {
            HdbcFile.Write(path, codes);
            var seen = new CodeCollector();
            await HdbcStreamReader.ReadAsync(new TrickleStream(File.ReadAllBytes(path), chunk), "test", seen);
            Assert.Equal((bits, 500UL), seen.SeenHeader);
            Assert.Equal(codes.Words.ToArray(), seen.Codes.SelectMany(c => c).ToArray());
            Assert.Equal(Enumerable.Range(0, 500).Select(i => (long)i), seen.Indexes);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task An_empty_hdbc_file_has_no_codes_and_an_empty_stream_no_header()
    {
        string path = Path.GetTempFileName();
        try
        {
            HdbcFile.Write(path, new PackedCodes(new CodeLayout(64), 0));
            var seen = new CodeCollector();
            await HdbcStreamReader.ReadAsync(new MemoryStream(File.ReadAllBytes(path)), "test", seen);
            Assert.Empty(seen.Codes);
            var e = await Assert.ThrowsAsync<InputException>(() => HdbcStreamReader.ReadAsync(new MemoryStream(), "stdin", seen));
            Assert.Equal("stdin: not an .hdbc file: 0 bytes is shorter than the 32-byte header.", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Json_lines_keep_non_ascii_text_and_escape_what_json_requires()
    {
        var text = new StringWriter();
        HammingDB.Cli.Output.JsonLine.Write(text, json =>
        {
            json.WriteStartObject();
            json.WriteString("key", "é \"q\" \\ \n <&>");
            json.WriteEndObject();
        });
        Assert.Equal("{\"key\":\"é \\\"q\\\" \\\\ \\n <&>\"}\n", text.ToString());
        Assert.Equal("é \"q\" \\ \n <&>", JsonDocument.Parse(text.ToString()).RootElement.GetProperty("key").GetString());
    }

    private sealed class Collector : ILineHandler
    {
        public List<string> Lines { get; } = [];

        public List<long> Numbers { get; } = [];

        public void Line(ReadOnlySpan<byte> line, long lineNumber)
        {
            Lines.Add(Encoding.UTF8.GetString(line));
            Numbers.Add(lineNumber);
        }
    }

    private sealed class CodeCollector : ICodeHandler
    {
        public (int, ulong) SeenHeader { get; private set; }

        public List<ulong[]> Codes { get; } = [];

        public List<long> Indexes { get; } = [];

        public void Header(int bits, ulong count) => SeenHeader = (bits, count);

        public void Code(ReadOnlySpan<ulong> code, long index)
        {
            Codes.Add(code.ToArray());
            Indexes.Add(index);
        }
    }

    // Hands out at most `chunk` bytes per read, as a slow pipe would.
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, chunk)]);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(count, chunk), cancellationToken);
    }
}
