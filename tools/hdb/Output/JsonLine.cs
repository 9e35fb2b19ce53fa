using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace HammingDB.Cli.Output;

/// <summary>
/// Writes JSON lines to a text writer, reusing one buffer: <see cref="Start"/>, write one value,
/// <see cref="WriteTo"/>. Non-ASCII text is written as is (UTF-8), not as \u escapes.
/// </summary>
internal sealed class JsonLine : IDisposable
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private readonly Utf8JsonWriter _json;
    private char[] _chars = new char[256];

    public JsonLine() => _json = new Utf8JsonWriter(_buffer, Options);

    /// <summary>The writer for the next line (empty).</summary>
    public Utf8JsonWriter Start()
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        return _json;
    }

    /// <summary>Writes the line and "\n" (no flush).</summary>
    public void WriteTo(TextWriter writer, bool newline = true)
    {
        _json.Flush();
        ReadOnlySpan<byte> bytes = _buffer.WrittenSpan;
        if (_chars.Length < bytes.Length)
        {
            _chars = new char[Math.Max(bytes.Length, 2 * _chars.Length)];
        }
        int n = Encoding.UTF8.GetChars(bytes, _chars);
        writer.Write(_chars, 0, n);
        if (newline)
        {
            writer.Write('\n');
        }
    }

    /// <summary>A one-off line.</summary>
    public static void Write(TextWriter writer, Action<Utf8JsonWriter> write)
    {
        using var line = new JsonLine();
        write(line.Start());
        line.WriteTo(writer);
    }

    public void Dispose() => _json.Dispose();
}
