using System.CommandLine;
using HammingDB.Cli.Output;
using HammingDB.Kernels;

namespace HammingDB.Cli.Commands;

/// <summary><c>hdb create DB --bits N [--collection C] [--key-type u64|string|guid] [--payloads]</c>.</summary>
internal static class CreateCommand
{
    public static Command Build(CliContext context)
    {
        var database = CommonOptions.Database();
        var collection = CommonOptions.Collection();
        var bits = new Option<int>("--bits") { Description = "Code width in bits: a multiple of 8 from 8 to 8192.", Required = true };
        var keyType = new Option<string>("--key-type") { Description = "The key type: u64 (default), string or guid.", DefaultValueFactory = _ => "u64" };
        keyType.AcceptOnlyFromAmong("u64", "string", "guid");
        var payloads = new Option<bool>("--payloads") { Description = "Every row carries a payload (bytes)." };
        var command = new Command("create", "Creates the database directory if needed, and a collection in it. Prints the collection as one JSON line.")
        {
            database, collection, bits, keyType, payloads,
        };
        command.SetAction(parse =>
        {
            int width = parse.GetValue(bits);
            CommonOptions.Require(width is >= CodeLayout.MinCodeBits and <= CodeLayout.MaxCodeBits && width % 8 == 0,
                $"--bits must be a multiple of 8 from {CodeLayout.MinCodeBits} to {CodeLayout.MaxCodeBits}; got {width}.");
            string name = parse.GetRequiredValue(collection);
            CommonOptions.Require(!string.IsNullOrWhiteSpace(name), "--collection must not be empty.");
            string path = parse.GetRequiredValue(database);
            using HammingDatabase db = DatabaseSession.Open(path, create: true);
            CommonOptions.Require(!db.CollectionNames.Contains(name), $"{db.Path}: a collection named '{name}' exists already.");
            var options = new CollectionOptions { CodeBits = width, Payloads = parse.GetValue(payloads) };
            switch (parse.GetRequiredValue(keyType))
            {
                case "string":
                    db.CreateCollection<string>(name, options);
                    break;
                case "guid":
                    db.CreateCollection<Guid>(name, options);
                    break;
                default:
                    db.CreateCollection<ulong>(name, options);
                    break;
            }
            CollectionInfo info = DatabaseSession.Find(db, name);
            JsonLine.Write(context.Stdout, json =>
            {
                json.WriteStartObject();
                json.WriteString("created", db.Path);
                StatsJson.WriteDefinition(json, info);
                json.WriteEndObject();
            });
            context.Stdout.Flush();
            return ExitCodes.Ok;
        });
        return command;
    }
}
