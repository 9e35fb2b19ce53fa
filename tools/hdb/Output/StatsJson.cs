using System.Text.Json;
using HammingDB.Cli.Input;

namespace HammingDB.Cli.Output;

/// <summary>A collection's definition and size as one JSON object (hdb stats, compact, create).</summary>
internal static class StatsJson
{
    public static void WriteDefinition(Utf8JsonWriter json, CollectionInfo info)
    {
        json.WriteString("name", info.Name);
        json.WriteNumber("bits", info.CodeBits);
        json.WriteString("key_type", KeyFormats.NameOf(info.KeyType));
        json.WriteBoolean("payloads", info.Payloads);
        if (info.VectorDimension > 0)
        {
            json.WriteNumber("vector_dimension", info.VectorDimension);
        }
    }

    public static void Write(Utf8JsonWriter json, CollectionInfo info, CollectionStats stats)
    {
        json.WriteStartObject();
        WriteDefinition(json, info);
        json.WriteNumber("rows", stats.Rows);
        json.WriteNumber("deleted", stats.DeletedRows);
        json.WriteNumber("segments", stats.Segments);
        json.WriteNumber("segment_rows", stats.SegmentRows);
        json.WriteNumber("bytes", stats.SegmentBytes);
        json.WriteNumber("memtable_rows", stats.MemtableRows);
        json.WriteEndObject();
    }
}
