using System.Globalization;
using System.Text;
using System.Text.Json;

namespace HammingDB.Cli.Input;

/// <summary>
/// How the keys of one key type are read and written by hdb: as text (command-line arguments,
/// keys files, <c>KEY&lt;TAB&gt;HEX</c> lines), as JSON, and numbered from an offset (u64 only).
/// u64 keys are decimal text and JSON numbers; string keys are their UTF-8 text and JSON strings;
/// Guid keys are JSON strings, read in any form <see cref="Guid.TryParse(string, out Guid)"/> reads and
/// written in the 36-character lowercase form.
/// </summary>
internal abstract class KeyFormat<TKey>
    where TKey : notnull
{
    /// <summary>The name of the key type on the command line and in stats: u64, string or guid.</summary>
    public abstract string Name { get; }

    /// <summary>Whether rows without a key can be numbered (key = offset + row index).</summary>
    public virtual bool Numbered => false;

    /// <summary>The key of the row numbered <paramref name="number"/> (u64 only).</summary>
    public virtual TKey FromNumber(ulong number) => throw new InvalidOperationException($"{Name} keys cannot be numbered.");

    /// <summary>A key from its text (UTF-8); a bad one is a <see cref="RecordException"/>.</summary>
    public abstract TKey ParseText(ReadOnlySpan<byte> utf8);

    /// <summary>A key from its text; a bad one is a <see cref="RecordException"/>.</summary>
    public TKey ParseText(string text) => ParseText(Encoding.UTF8.GetBytes(text));

    /// <summary>A key from the JSON value the reader is on; a bad one is a <see cref="RecordException"/>.</summary>
    public abstract TKey ReadJson(ref Utf8JsonReader reader);

    /// <summary>Writes the key as a JSON value.</summary>
    public abstract void WriteJson(Utf8JsonWriter writer, TKey key);

    /// <summary>The key as plain text (csv, table, messages).</summary>
    public abstract string Format(TKey key);

    /// <summary>An upper bound of the key's encoded size, to keep batches under the log's record limit.</summary>
    public virtual int EncodedBytes(TKey key) => 16;

    /// <summary>A short description of the JSON token the reader is on, for messages.</summary>
    protected static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.Number => "a number",
        JsonTokenType.String => "a string",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        _ => token.ToString(),
    };
}

/// <summary>The key format of each key type the engine has.</summary>
internal static class KeyFormats
{
    /// <summary>The command-line name of a collection's key type (<see cref="CollectionInfo.KeyType"/>).</summary>
    public static string NameOf(Type keyType) =>
        keyType == typeof(ulong) ? "u64" : keyType == typeof(string) ? "string" : keyType == typeof(Guid) ? "guid" : keyType.Name;

    /// <summary>Runs <paramref name="action"/> with the key type of <paramref name="keyType"/>: the one place that dispatches to generic code.</summary>
    public static TResult Dispatch<TResult>(Type keyType, IKeyedAction<TResult> action)
    {
        if (keyType == typeof(ulong))
        {
            return action.Run(UInt64KeyFormat.Instance);
        }
        if (keyType == typeof(string))
        {
            return action.Run(StringKeyFormat.Instance);
        }
        if (keyType == typeof(Guid))
        {
            return action.Run(GuidKeyFormat.Instance);
        }
        throw new InvalidOperationException($"hdb does not know keys of type {keyType.Name}.");
    }
}

/// <summary>Code that runs once per key type (see <see cref="KeyFormats.Dispatch{TResult}"/>).</summary>
internal interface IKeyedAction<out TResult>
{
    TResult Run<TKey>(KeyFormat<TKey> keys)
        where TKey : notnull;
}

internal sealed class UInt64KeyFormat : KeyFormat<ulong>
{
    public static UInt64KeyFormat Instance { get; } = new();

    public override string Name => "u64";

    public override bool Numbered => true;

    public override ulong FromNumber(ulong number) => number;

    public override ulong ParseText(ReadOnlySpan<byte> utf8)
    {
        // Decimal digits only: no sign, no spaces, no exponent.
        if (utf8.IsEmpty || utf8.Length > 20)
        {
            throw Bad(utf8);
        }
        ulong value = 0;
        foreach (byte c in utf8)
        {
            uint digit = (uint)(c - '0');
            if (digit > 9 || value > (ulong.MaxValue - digit) / 10)
            {
                throw Bad(utf8);
            }
            value = value * 10 + digit;
        }
        return value;
    }

    private static RecordException Bad(ReadOnlySpan<byte> utf8) =>
        new($"the key '{Encoding.UTF8.GetString(utf8)}' is not an unsigned 64-bit integer (decimal digits, at most {ulong.MaxValue})");

    public override ulong ReadJson(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            throw new RecordException($"\"key\" must be a JSON number (the collection is keyed by u64); got {Describe(reader.TokenType)}");
        }
        if (!reader.TryGetUInt64(out ulong value))
        {
            throw new RecordException($"\"key\" must be an unsigned 64-bit integer; got {Encoding.UTF8.GetString(reader.ValueSpan)}");
        }
        return value;
    }

    public override void WriteJson(Utf8JsonWriter writer, ulong key) => writer.WriteNumberValue(key);

    public override string Format(ulong key) => key.ToString(CultureInfo.InvariantCulture);

    public override int EncodedBytes(ulong key) => 8;
}

internal sealed class StringKeyFormat : KeyFormat<string>
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static StringKeyFormat Instance { get; } = new();

    public override string Name => "string";

    public override string ParseText(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return Strict.GetString(utf8);
        }
        catch (DecoderFallbackException)
        {
            throw new RecordException("the key is not valid UTF-8");
        }
    }

    public override string ReadJson(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new RecordException($"\"key\" must be a JSON string (the collection is keyed by string); got {Describe(reader.TokenType)}");
        }
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new RecordException($"\"key\" is not a valid string: {e.Message}");
        }
    }

    public override void WriteJson(Utf8JsonWriter writer, string key) => writer.WriteStringValue(key);

    public override string Format(string key) => key;

    public override int EncodedBytes(string key) => 3 * key.Length;
}

internal sealed class GuidKeyFormat : KeyFormat<Guid>
{
    public static GuidKeyFormat Instance { get; } = new();

    public override string Name => "guid";

    public override Guid ParseText(ReadOnlySpan<byte> utf8)
    {
        Span<char> chars = stackalloc char[68];
        if (utf8.Length > chars.Length || !Guid.TryParse(chars[..Encoding.UTF8.GetChars(utf8[..Math.Min(utf8.Length, chars.Length)], chars)], out Guid key))
        {
            throw new RecordException($"the key '{Encoding.UTF8.GetString(utf8[..Math.Min(utf8.Length, 80)])}' is not a GUID");
        }
        return key;
    }

    public override Guid ReadJson(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new RecordException($"\"key\" must be a JSON string holding a GUID (the collection is keyed by guid); got {Describe(reader.TokenType)}");
        }
        if (!reader.TryGetGuid(out Guid key) && !Guid.TryParse(reader.GetString(), out key))
        {
            throw new RecordException($"\"key\" is not a GUID: \"{reader.GetString()}\"");
        }
        return key;
    }

    public override void WriteJson(Utf8JsonWriter writer, Guid key) => writer.WriteStringValue(key.ToString("D"));

    public override string Format(Guid key) => key.ToString("D");
}
