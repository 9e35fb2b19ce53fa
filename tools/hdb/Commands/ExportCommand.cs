using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text;
using HammingDB.Cli.Input;
using HammingDB.Cli.Output;

namespace HammingDB.Cli.Commands;

/// <summary><c>hdb export DB [--collection C] --format hdbc|ndjson [--output FILE|-]</c>.</summary>
internal static class ExportCommand
{
    public static Command Build(CliContext context)
    {
        var database = CommonOptions.Database();
        var collection = CommonOptions.Collection();
        var format = new Option<string>("--format") { Description = "ndjson: the lines ingest reads ({\"key\":K,\"code\":\"HEX\"} plus \"payload\"); hdbc: the codes alone, in the bench format.", Required = true };
        format.AcceptOnlyFromAmong("hdbc", "ndjson");
        var output = new Option<string>("--output") { Description = "The output file, or '-' for standard output (the default).", DefaultValueFactory = _ => "-" };
        var command = new Command("export", "Writes every live row of a collection in key order, from one consistent view.")
        {
            database, collection, format, output,
        };
        command.SetAction(parse =>
        {
            using HammingDatabase db = DatabaseSession.OpenReadOnly(parse.GetRequiredValue(database));
            CollectionInfo info = DatabaseSession.Find(db, parse.GetRequiredValue(collection));
            string target = parse.GetRequiredValue(output);
            bool hdbc = parse.GetRequiredValue(format) == "hdbc";
            if (target == "-")
            {
                if (hdbc)
                {
                    CommonOptions.Require(context.StdoutBytes is not null, "this standard output takes text only: give --output FILE for hdbc.");
                    context.Stdout.Flush();
                    DatabaseSession.Run(db, info, new Action(hdbc, null, context.StdoutBytes));
                    context.StdoutBytes!.Flush();
                }
                else
                {
                    DatabaseSession.Run(db, info, new Action(hdbc, context.Stdout, null));
                    context.Stdout.Flush();
                }
                return ExitCodes.Ok;
            }
            using (var stream = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                if (hdbc)
                {
                    DatabaseSession.Run(db, info, new Action(hdbc, null, stream));
                }
                else
                {
                    using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16);
                    DatabaseSession.Run(db, info, new Action(hdbc, writer, null));
                }
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private sealed class Action(bool hdbc, TextWriter? text, Stream? bytes) : ICollectionAction<long>
    {
        public long Run<TKey>(HammingCollection<TKey> collection, CollectionInfo info, KeyFormat<TKey> keys)
            where TKey : notnull => hdbc ? WriteHdbc(collection, info, bytes!) : WriteNdjson(collection, info, keys, text!);

        private static long WriteNdjson<TKey>(HammingCollection<TKey> collection, CollectionInfo info, KeyFormat<TKey> keys, TextWriter writer)
            where TKey : notnull
        {
            using var line = new JsonLine();
            var rows = new RowWriter<TKey>(keys, info.CodeBits);
            long count = 0;
            foreach (StoredRow<TKey> row in collection.EnumerateRows())
            {
                rows.Write(line.Start(), row);
                line.WriteTo(writer);
                count++;
            }
            return count;
        }

        // The header needs the count first. This process holds the writer lock and writes nothing, so the
        // stats and the enumeration see the same rows; a difference would be a bug, reported as such.
        private static long WriteHdbc<TKey>(HammingCollection<TKey> collection, CollectionInfo info, Stream stream)
            where TKey : notnull
        {
            long expected = collection.GetStats().Rows;
            var layout = new Kernels.CodeLayout(info.CodeBits);
            Span<byte> header = stackalloc byte[HdbcFile.HeaderBytes];
            HdbcFile.WriteHeader(header, info.CodeBits, (ulong)expected);
            stream.Write(header);
            if (!BitConverter.IsLittleEndian)
            {
                throw new PlatformNotSupportedException("Writing .hdbc on a big-endian machine is not supported.");
            }
            var buffer = new byte[1 << 16];
            int used = 0;
            long count = 0;
            foreach (StoredRow<TKey> row in collection.EnumerateRows())
            {
                ReadOnlySpan<byte> code = MemoryMarshal.AsBytes(row.Code.AsSpan(0, layout.WordsPerCode));
                if (used + code.Length > buffer.Length)
                {
                    stream.Write(buffer, 0, used);
                    used = 0;
                }
                code.CopyTo(buffer.AsSpan(used));
                used += code.Length;
                count++;
            }
            stream.Write(buffer, 0, used);
            if (count != expected)
            {
                throw new System.Diagnostics.UnreachableException($"the collection's stats count {expected} rows but {count} were exported.");
            }
            return count;
        }
    }
}
