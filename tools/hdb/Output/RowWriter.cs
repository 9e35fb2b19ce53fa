using System.Text.Json;
using HammingDB.Cli.Input;

namespace HammingDB.Cli.Output;

/// <summary>
/// A stored row as the ndjson line ingest reads: <c>{"key":K,"code":"HEX"}</c>, plus
/// <c>"payload":"HEX"</c> when the row has one (get, export).
/// </summary>
internal sealed class RowWriter<TKey>(KeyFormat<TKey> keys, int codeBits)
    where TKey : notnull
{
    private readonly ulong[] _scratch = new ulong[(codeBits + 63) / 64];
    private char[] _hex = new char[2 * ((codeBits + 63) / 64) * 8];

    public void Write(Utf8JsonWriter json, StoredRow<TKey> row)
    {
        json.WriteStartObject();
        json.WritePropertyName("key");
        keys.WriteJson(json, row.Key);
        json.WriteString("code", Hex.Encode(Hex.CodeBytes(row.Code, codeBits, _scratch), _hex));
        if (row.Payload is { } payload)
        {
            if (_hex.Length < 2 * payload.Length)
            {
                _hex = new char[2 * payload.Length];
            }
            json.WriteString("payload", Hex.Encode(payload, _hex));
        }
        json.WriteEndObject();
    }
}
