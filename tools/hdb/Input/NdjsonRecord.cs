using System.Text;
using System.Text.Json;
using HammingDB.Kernels;

namespace HammingDB.Cli.Input;

/// <summary>
/// One line of the ndjson format: a JSON object <c>{"key":K,"code":"HEX","payload":"HEX"}</c>, or with
/// <c>"vector":[x0,x1,...]</c> (float32 values) instead of "code" for a collection with an encoder.
/// Rows (ingest) need "key" and one of "code" and "vector", take "payload" (hex) and refuse any other
/// member; queries need one of "code" and "vector" and ignore the other members, so exported rows can be queries.
/// </summary>
internal static class NdjsonRecord
{
    private static readonly JsonReaderOptions Options = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 };
    private static readonly VectorTarget NoVectors = VectorTarget.None("this input takes codes only");

    /// <summary>A row of codes (a "vector" is refused).</summary>
    public static TKey ParseRow<TKey>(ReadOnlySpan<byte> line, CodeLayout layout, Span<ulong> code, KeyFormat<TKey> keys, out byte[]? payload)
        where TKey : notnull => ParseRow(line, layout, code, NoVectors, keys, out payload, out _);

    /// <summary>A query code (a "vector" is refused).</summary>
    public static void ParseQuery(ReadOnlySpan<byte> line, CodeLayout layout, Span<ulong> code) => ParseQuery(line, layout, code, NoVectors);

    /// <summary>
    /// A row to ingest. Its "code" goes to <paramref name="code"/>, or its "vector" to
    /// <paramref name="vectors"/>.Buffer (then <paramref name="hasVector"/> is true).
    /// </summary>
    public static TKey ParseRow<TKey>(ReadOnlySpan<byte> line, CodeLayout layout, Span<ulong> code, VectorTarget vectors, KeyFormat<TKey> keys,
        out byte[]? payload, out bool hasVector)
        where TKey : notnull
    {
        var reader = new Utf8JsonReader(line, Options);
        bool hasKey = false, hasCode = false;
        hasVector = false;
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
                else if (reader.ValueTextEquals("vector"u8))
                {
                    Once(ref hasVector, "vector");
                    reader.Read();
                    vectors.Read(ref reader);
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
                    throw new RecordException(
                        $"unknown member \"{reader.GetString()}\" (a row has \"key\", \"code\" or \"vector\" and, with payloads, \"payload\")");
                }
            }
            End(ref reader);
        }
        catch (JsonException e)
        {
            throw new RecordException($"not valid JSON: {e.Message}");
        }
        catch (InvalidOperationException e) when (e.InnerException is DecoderFallbackException)
        {
            // The reader checks the UTF-8 of a string only when it is read as text (a member name, a key, a message).
            throw new RecordException($"not valid JSON: a string is not valid UTF-8 ({e.InnerException.Message})");
        }
        if (!hasKey)
        {
            throw new RecordException("the object has no \"key\"");
        }
        CheckCodeOrVector(hasCode, hasVector, vectors);
        return key;
    }

    /// <summary>A query: only "code" (to <paramref name="code"/>) or "vector" (to <paramref name="vectors"/>.Buffer; returns true) is read.</summary>
    public static bool ParseQuery(ReadOnlySpan<byte> line, CodeLayout layout, Span<ulong> code, VectorTarget vectors)
    {
        var reader = new Utf8JsonReader(line, Options);
        bool hasCode = false, hasVector = false;
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
                else if (reader.ValueTextEquals("vector"u8))
                {
                    Once(ref hasVector, "vector");
                    reader.Read();
                    vectors.Read(ref reader);
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
        catch (InvalidOperationException e) when (e.InnerException is DecoderFallbackException)
        {
            // The reader checks the UTF-8 of a string only when it is read as text (a member name, a key, a message).
            throw new RecordException($"not valid JSON: a string is not valid UTF-8 ({e.InnerException.Message})");
        }
        CheckCodeOrVector(hasCode, hasVector, vectors);
        return hasVector;
    }

    private static void CheckCodeOrVector(bool hasCode, bool hasVector, VectorTarget vectors)
    {
        if (hasCode && hasVector)
        {
            throw new RecordException("the object has both \"code\" and \"vector\"; give one of them");
        }
        if (!hasCode && !hasVector)
        {
            throw new RecordException(vectors.Buffer is null ? "the object has no \"code\"" : "the object has no \"code\" or \"vector\"");
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
