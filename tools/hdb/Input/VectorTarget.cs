using System.Globalization;
using System.Text.Json;

namespace HammingDB.Cli.Input;

/// <summary>
/// Where the "vector" member of an ndjson line goes: a buffer of the collection's dimension, or none
/// when the collection has no encoder (then a "vector" is refused with <see cref="Refusal"/>).
/// </summary>
internal sealed class VectorTarget
{
    private readonly string _collection;

    private VectorTarget(float[]? buffer, string collection, string refusal)
    {
        Buffer = buffer;
        _collection = collection;
        Refusal = refusal;
    }

    /// <summary>The last vector read (the collection's dimension), or null when vectors are refused.</summary>
    public float[]? Buffer { get; }

    /// <summary>Why a "vector" is refused (when <see cref="Buffer"/> is null).</summary>
    public string Refusal { get; }

    /// <summary>Vectors of <paramref name="dimension"/> for collection <paramref name="collection"/>.</summary>
    public static VectorTarget Of(int dimension, string collection) => new(new float[dimension], collection, "");

    /// <summary>No vectors: a "vector" member is refused, saying <paramref name="why"/>.</summary>
    public static VectorTarget None(string why) => new(null, "", why);

    /// <summary>Reads a JSON array of exactly the dimension's numbers, each finite as a float32, into <see cref="Buffer"/>.</summary>
    public void Read(ref Utf8JsonReader reader)
    {
        if (Buffer is null)
        {
            throw new RecordException($"the object has \"vector\", but {Refusal}");
        }
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new RecordException("\"vector\" must be a JSON array of numbers");
        }
        int n = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number)
            {
                throw new RecordException($"\"vector\" element {n} is not a number ({Describe(reader.TokenType)})");
            }
            // A number JSON allows but double cannot hold (1e999) is refused here; one double holds but float32 not, below.
            if (!reader.TryGetDouble(out double value) || !float.IsFinite((float)value))
            {
                string text = System.Text.Encoding.UTF8.GetString(reader.ValueSpan);
                throw new RecordException($"\"vector\" element {n} is {text}, not a finite float32 (at most {float.MaxValue.ToString(CultureInfo.InvariantCulture)} in magnitude)");
            }
            if (n < Buffer.Length)
            {
                Buffer[n] = (float)value;
            }
            n++;
        }
        if (n != Buffer.Length)
        {
            throw new RecordException($"\"vector\" has {n} values, but collection '{_collection}' takes vectors of dimension {Buffer.Length}");
        }
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.String => "a string",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        _ => token.ToString(),
    };
}
