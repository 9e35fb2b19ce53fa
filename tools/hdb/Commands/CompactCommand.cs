using System.CommandLine;
using System.Diagnostics;
using HammingDB.Cli.Output;

namespace HammingDB.Cli.Commands;

/// <summary><c>hdb compact DB</c>.</summary>
internal static class CompactCommand
{
    public static Command Build(CliContext context)
    {
        var database = CommonOptions.Database();
        var command = new Command("compact",
            "Merges the segments of every collection into one, dropping deleted and superseded rows, and prints " +
            "{\"seconds\":S,\"before\":[STATS...],\"after\":[STATS...]} (STATS as hdb stats prints them, every collection).")
        {
            database,
        };
        command.SetAction(parse =>
        {
            using HammingDatabase db = DatabaseSession.Open(parse.GetRequiredValue(database));
            IReadOnlyList<CollectionInfo> collections = db.Collections;
            var before = collections.Select(info => DatabaseSession.Stats(db, info)).ToList();
            var clock = Stopwatch.StartNew();
            db.Compact();
            double seconds = clock.Elapsed.TotalSeconds;
            var after = collections.Select(info => DatabaseSession.Stats(db, info)).ToList();
            JsonLine.Write(context.Stdout, json =>
            {
                json.WriteStartObject();
                json.WriteNumber("seconds", Math.Round(seconds, 3));
                json.WriteStartArray("before");
                for (int i = 0; i < collections.Count; i++)
                {
                    StatsJson.Write(json, collections[i], before[i]);
                }
                json.WriteEndArray();
                json.WriteStartArray("after");
                for (int i = 0; i < collections.Count; i++)
                {
                    StatsJson.Write(json, collections[i], after[i]);
                }
                json.WriteEndArray();
                json.WriteEndObject();
            });
            context.Stdout.Flush();
            return ExitCodes.Ok;
        });
        return command;
    }
}
