using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text;
using HammingDB.Cli.Commands;

namespace HammingDB.Cli;

/// <summary>The hdb command line: parses, runs one command, maps failures to documented exit codes.</summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        using Stream stdin = Console.OpenStandardInput();
        using Stream stdoutBytes = Console.OpenStandardOutput();
        // Buffered: commands flush when a line must be seen at once (ingest --progress json) and at the end.
        using var stdout = new StreamWriter(stdoutBytes, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16) { AutoFlush = false };
        return Run(args, new CliContext(stdin, stdout, stdoutBytes, Console.Error, StderrIsTerminal: !Console.IsErrorRedirected));
    }

    /// <summary>Runs with no standard input.</summary>
    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, Stream.Null, stdout, stderr);

    /// <summary>Runs with <paramref name="stdin"/> as standard input ("-"), text-only standard output.</summary>
    internal static int Run(string[] args, Stream stdin, TextWriter stdout, TextWriter stderr) =>
        Run(args, new CliContext(stdin, stdout, null, stderr, StderrIsTerminal: false));

    /// <summary>Runs with byte streams for standard input and output (text is written as UTF-8).</summary>
    internal static int Run(string[] args, Stream stdin, Stream stdout, TextWriter stderr)
    {
        using var writer = new StreamWriter(stdout, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16, leaveOpen: true);
        int exit = Run(args, new CliContext(stdin, writer, stdout, stderr, StderrIsTerminal: false));
        writer.Flush();
        return exit;
    }

    internal static int Run(string[] args, CliContext context)
    {
        TextWriter stderr = context.Stderr;
        RootCommand root = BuildCommands(context);
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (ParseError error in parse.Errors)
            {
                stderr.WriteLine($"hdb: {error.Message}");
            }
            stderr.WriteLine("hdb: see 'hdb --help'.");
            return ExitCodes.BadInput;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = context.Stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is InputException or FileNotFoundException or DirectoryNotFoundException)
        {
            stderr.WriteLine($"hdb: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (Exception e) when (e is ArgumentException or PlatformNotSupportedException or InvalidOperationException)
        {
            stderr.WriteLine($"hdb: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Storage errors of the engine (HammingDB.Storage.StorageException, CorruptionException) are IOExceptions,
            // among them "locked by another writer".
            stderr.WriteLine($"hdb: {e.Message}");
            return ExitCodes.StorageError;
        }
#pragma warning disable CA1031 // the last resort: a bug, reported with exit code 1 rather than a crash
        catch (Exception e)
#pragma warning restore CA1031
        {
            stderr.WriteLine($"hdb: internal error (please report it): {e}");
            return ExitCodes.InternalError;
        }
    }

    private static RootCommand BuildCommands(CliContext context)
    {
        var root = new RootCommand("hdb: the HammingDB command-line tool (exact search over binary codes).");
        var bench = new Command("bench", "Benchmarks that print one JSON line per run on stdout.");
        bench.Subcommands.Add(BenchScanCommand.Build(context));
        bench.Subcommands.Add(BenchEngineCommand.Build(context));
        bench.Subcommands.Add(BenchMihCommand.Build(context));
        bench.Subcommands.Add(BenchPlanCommand.Build(context));
        root.Subcommands.Add(bench);

        // The database commands: one file each in Commands/. A new command (e.g. check) is built and added here.
        root.Subcommands.Add(CreateCommand.Build(context));
        root.Subcommands.Add(IngestCommand.Build(context));
        root.Subcommands.Add(QueryCommand.Build(context));
        root.Subcommands.Add(ExplainCommand.Build(context));
        root.Subcommands.Add(GetCommand.Build(context));
        root.Subcommands.Add(DeleteCommand.Build(context));
        root.Subcommands.Add(StatsCommand.Build(context));
        root.Subcommands.Add(CompactCommand.Build(context));
        root.Subcommands.Add(ExportCommand.Build(context));
        root.Subcommands.Add(CheckCommand.Build(context));
        root.Subcommands.Add(TrainCommand.Build(context));
        root.Subcommands.Add(EvalCommand.Build(context));
        return root;
    }
}
