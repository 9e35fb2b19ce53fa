using System.CommandLine;
using HammingDB.Cli.Output;

namespace HammingDB.Cli.Commands;

/// <summary><c>hdb check DB</c>: verifies every file of a database and reports each problem.</summary>
internal static class CheckCommand
{
    public static Command Build(CliContext context)
    {
        var database = CommonOptions.Database();
        var command = new Command("check",
            "Verifies the database without changing any file: the manifest, every checksum of every segment, deletion bitmap and log record, " +
            "key order, and the key index against the segments' keys. Prints one JSON line per problem " +
            "({\"severity\":\"damage\"|\"notice\",\"file\":F,\"offset\":O,\"problem\":P}; offset -1 when there is none), then " +
            "{\"ok\":B,\"files\":N,\"rows\":N,\"damage\":N,\"notices\":N}. Exit code 0 when no damage is found (notices are what a crash " +
            $"leaves and the next open mends), {ExitCodes.Damaged} on damage, {ExitCodes.StorageError} when the database is open for writing elsewhere.")
        {
            database,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetRequiredValue(database);
            CommonOptions.Require(Directory.Exists(path), $"{path}: no such directory.");
            CheckReport report = HammingDatabase.Check(path);
            using var line = new JsonLine();
            foreach (CheckProblem problem in report.Problems)
            {
                var json = line.Start();
                json.WriteStartObject();
                json.WriteString("severity", problem.Severity == CheckSeverity.Damage ? "damage" : "notice");
                json.WriteString("file", problem.File);
                json.WriteNumber("offset", problem.Offset);
                json.WriteString("problem", problem.Problem);
                json.WriteEndObject();
                line.WriteTo(context.Stdout);
                if (problem.Severity == CheckSeverity.Damage)
                {
                    context.Stderr.WriteLine($"hdb check: {problem}");
                }
            }
            int damage = report.Problems.Count(p => p.Severity == CheckSeverity.Damage);
            var summary = line.Start();
            summary.WriteStartObject();
            summary.WriteBoolean("ok", report.Ok);
            summary.WriteNumber("files", report.FilesChecked);
            summary.WriteNumber("rows", report.RowsChecked);
            summary.WriteNumber("damage", damage);
            summary.WriteNumber("notices", report.Problems.Count - damage);
            summary.WriteEndObject();
            line.WriteTo(context.Stdout);
            context.Stdout.Flush();
            return report.Ok ? ExitCodes.Ok : ExitCodes.Damaged;
        });
        return command;
    }
}
