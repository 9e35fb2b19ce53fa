using System.CommandLine;
using HammingDB.Cli.Input;
using HammingDB.Cli.Output;

namespace HammingDB.Cli.Commands;

/// <summary><c>hdb delete DB KEY... [--keys-file F] [--collection C]</c>.</summary>
internal static class DeleteCommand
{
    public static Command Build(CliContext context)
    {
        var database = CommonOptions.Database();
        var keys = KeyOptions.Keys();
        var keysFile = KeyOptions.KeysFile();
        var collection = CommonOptions.Collection();
        var command = new Command("delete",
            "Deletes the rows of the keys in one durable batch (all or none) and prints {\"deleted\":N,\"missing\":M} (distinct keys that had a row, and that had none).")
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
                using HammingDatabase db = DatabaseSession.Open(path);
                CollectionInfo info = DatabaseSession.Find(db, name);
                (int deleted, int missing) = await DatabaseSession.Run(db, info, new Action(keyArguments, file, context)).ConfigureAwait(false);
                JsonLine.Write(context.Stdout, json =>
                {
                    json.WriteStartObject();
                    json.WriteNumber("deleted", deleted);
                    json.WriteNumber("missing", missing);
                    json.WriteEndObject();
                });
                context.Stdout.Flush();
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    private sealed class Action(string[] arguments, string? file, CliContext context) : ICollectionAction<Task<(int Deleted, int Missing)>>
    {
        public async Task<(int Deleted, int Missing)> Run<TKey>(HammingCollection<TKey> collection, CollectionInfo info, KeyFormat<TKey> keys)
            where TKey : notnull
        {
            List<TKey> list = await KeyList.ReadAsync(arguments, file, context.Stdin, keys).ConfigureAwait(false);
            // This process holds the writer lock, so what TryGet sees now is what the batch deletes.
            CollectionBatch<TKey> batch = collection.NewBatch();
            int missing = 0;
            foreach (TKey key in list.Distinct())
            {
                if (collection.TryGet(key, out _))
                {
                    batch.Delete(key);
                }
                else
                {
                    missing++;
                }
            }
            collection.Apply(batch);
            return (batch.Count, missing);
        }
    }
}
