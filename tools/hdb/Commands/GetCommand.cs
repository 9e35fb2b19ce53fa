using System.CommandLine;
using HammingDB.Cli.Input;
using HammingDB.Cli.Output;

namespace HammingDB.Cli.Commands;

/// <summary><c>hdb get DB KEY... [--keys-file F] [--collection C]</c>.</summary>
internal static class GetCommand
{
    public static Command Build(CliContext context)
    {
        var database = CommonOptions.Database();
        var keys = KeyOptions.Keys();
        var keysFile = KeyOptions.KeysFile();
        var collection = CommonOptions.Collection();
        var command = new Command("get",
            "Prints the row of each key as an ndjson line {\"key\":K,\"code\":\"HEX\"} (plus \"payload\":\"HEX\" with payloads), the form ingest reads; " +
            "a key without a row prints {\"key\":K,\"found\":false}. Exit code 0 either way.")
        {
            database, keys, keysFile, collection,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetRequiredValue(database), name = parse.GetRequiredValue(collection);
            string[] keyArguments = parse.GetValue(keys) ?? [];
            string? file = parse.GetValue(keysFile);
            return CommonOptions.Wait(async () =>
            {
                using HammingDatabase db = DatabaseSession.OpenReadOnly(path);
                CollectionInfo info = DatabaseSession.Find(db, name);
                await DatabaseSession.Run(db, info, new Action(keyArguments, file, context)).ConfigureAwait(false);
                context.Stdout.Flush();
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    private sealed class Action(string[] arguments, string? file, CliContext context) : ICollectionAction<Task>
    {
        public async Task Run<TKey>(HammingCollection<TKey> collection, CollectionInfo info, KeyFormat<TKey> keys)
            where TKey : notnull
        {
            List<TKey> list = await KeyList.ReadAsync(arguments, file, context.Stdin, keys).ConfigureAwait(false);
            using var line = new JsonLine();
            var rowWriter = new RowWriter<TKey>(keys, info.CodeBits);
            foreach (TKey key in list)
            {
                if (collection.TryGet(key, out StoredRow<TKey>? row))
                {
                    rowWriter.Write(line.Start(), row!);
                }
                else
                {
                    var json = line.Start();
                    json.WriteStartObject();
                    json.WritePropertyName("key");
                    keys.WriteJson(json, key);
                    json.WriteBoolean("found", false);
                    json.WriteEndObject();
                }
                line.WriteTo(context.Stdout);
            }
        }
    }
}
