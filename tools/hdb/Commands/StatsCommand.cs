using System.CommandLine;
using HammingDB.Cli.Output;

namespace HammingDB.Cli.Commands;

/// <summary><c>hdb stats DB [--collection C | --all]</c>.</summary>
internal static class StatsCommand
{
    public static Command Build(CliContext context)
    {
        var database = CommonOptions.Database();
        var collection = new Option<string?>("--collection") { Description = $"The collection (default '{CommonOptions.DefaultCollection}')." };
        var all = new Option<bool>("--all") { Description = "Every collection, one line each, in creation order." };
        var command = new Command("stats",
            "Prints a collection as one JSON line: name, bits, key_type, payloads, rows (live), deleted (rows segments still store but no longer serve), " +
            "segments, segment_rows, bytes (of the segment files) and memtable_rows.")
        {
            database, collection, all,
        };
        command.SetAction(parse =>
        {
            string? name = parse.GetValue(collection);
            bool everything = parse.GetValue(all);
            CommonOptions.Require(!(everything && name is not null), "give --collection or --all, not both.");
            using HammingDatabase db = DatabaseSession.OpenReadOnly(parse.GetRequiredValue(database));
            IEnumerable<CollectionInfo> chosen = everything ? db.Collections : [DatabaseSession.Find(db, name ?? CommonOptions.DefaultCollection)];
            using var line = new JsonLine();
            foreach (CollectionInfo info in chosen)
            {
                StatsJson.Write(line.Start(), info, DatabaseSession.Stats(db, info));
                line.WriteTo(context.Stdout);
            }
            context.Stdout.Flush();
            return ExitCodes.Ok;
        });
        return command;
    }
}
