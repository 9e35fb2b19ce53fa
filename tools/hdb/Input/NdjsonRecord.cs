using System.Text;
using System.Text.Json;
using HammingDB.Kernels;

namespace HammingDB.Cli.Input;

/// <summary>
/// One line of the ndjson format: a JSON object <c>{"key":K,"code":"HEX","payload":"HEX"}</c>.
/// Rows (ingest) need "key" and "code", take "payload" (hex) and refuse any other member; queries
/// need only "code" and ignore the other members, so exported rows can be queries.
/// </summary>
internal static class NdjsonRecord
{
    private static readonly JsonReaderOptions Options = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 };

    /// <summary>A row to ingest.</summary>
    public static TKey ParseRow<TKey>(ReadOnlySpan<byte> line, CodeLayout layout, Span<ulong> code, KeyFormat<TKey> keys, out byte[]? payload)
        where TKey : notnull
    {
        var reader = new Utf8JsonReader(line, Options);
        bool hasKey = false, hasCode = false;
        TKey key = default!;
        payload = null;
        try
        {
            Start(ref reader, line);
            while (NextMember(ref reader))
            {
                if (reader.ValueTextEquals("key"u8))
                {
                    Once(ref hasKey, "key");
                    reader.Read();
                    key = keys.ReadJson(ref reader);
                }
                else if (reader.ValueTextEquals("code"u8))
                {
                    Once(ref hasCode, "code");
                    reader.Read();
                    ReadCode(ref reader, layout, code);
                }
                else if (reader.ValueTextEquals("payload"u8))
                {
                    if (payload is not null)
                    {
                        throw new RecordException("\"payload\" appears twice");
                    }
                    reader.Read();
                    int column = (int)reader.TokenStartIndex + 2;
                    RequireString(ref reader, "payload");
                    payload = Hex.DecodePayload(Unescaped(ref reader), column);
                }
                else
                {
                    throw new RecordException($"unknown member \"{reader.GetString()}\" (a row has \"key\", \"code\" and, with payloads, \"payload\")");
                }
            }
            End(ref reader);
        }
        catch (JsonException e)
        {
            throw new RecordException($"not valid JSON: {e.Message}");
        }
        if (!hasKey)
        {
            throw new RecordException("the object has no \"key\"");
        }
        if (!hasCode)
        {
            throw new RecordException("the object has no \"code\"");
        }
        return key;
    }

    /// <summary>A query: only "code" is read.</summary>
    public static void ParseQuery(ReadOnlySpan<byte> line, CodeLayout layout, Span<ulong> code)
    {
        var reader = new Utf8JsonReader(line, Options);
        bool hasCode = false;
        try
        {
            Start(ref reader, line);
            while (NextMember(ref reader))
            {
                if (reader.ValueTextEquals("code"u8))
                {
                    Once(ref hasCode, "code");
                    reader.Read();
                    ReadCode(ref reader, layout, code);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            End(ref reader);
        }
        catch (JsonException e)
        {
            throw new RecordException($"not valid JSON: {e.Message}");
        }
        if (!hasCode)
        {
            throw new RecordException("the object has no \"code\"");
        }
    }

    private static void Start(ref Utf8JsonReader reader, ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty)
        {
            throw new RecordException("the line is empty (each line holds one JSON object)");
        }
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new RecordException("the line is not a JSON object");
        }
    }

    private static bool NextMember(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.PropertyName;
    }

    // After the object's end: nothing but white space may follow (the reader throws on anything else).
    private static void End(ref Utf8JsonReader reader)
    {
        if (reader.Read())
        {
            throw new RecordException("something follows the JSON object on the line");
        }
    }

    private static void Once(ref bool seen, string name)
    {
        if (seen)
        {
            throw new RecordException($"\"{name}\" appears twice");
        }
        seen = true;
    }

    private static void ReadCode(ref Utf8JsonReader reader, CodeLayout layout, Span<ulong> code)
    {
        int column = (int)reader.TokenStartIndex + 2;
        RequireString(ref reader, "code");
        Hex.DecodeCode(Unescaped(ref reader), layout, code, column);
    }

    private static void RequireString(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new RecordException($"\"{name}\" must be a JSON string of hex digits");
        }
    }

    // The string's bytes; escapes (legal JSON, if odd for hex) are resolved by a copy.
    private static ReadOnlySpan<byte> Unescaped(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan;
        }
        return Encoding.UTF8.GetBytes(reader.GetString()!);
    }
}
