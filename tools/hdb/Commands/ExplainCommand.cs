using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using HammingDB.Cli.Input;
using HammingDB.Cli.Output;
using Spectre.Console;

namespace HammingDB.Cli.Commands;

/// <summary>What <c>hdb explain</c> was asked to do.</summary>
internal sealed record ExplainSettings(string Database, string Collection, string? File, InputFormat Format, int? K, int? Radius, QueryPlan Plan, string Output);

/// <summary>
/// <c>hdb explain DB [FILE|-] --format hdbc|hex|ndjson (--k K | --radius R) [--plan auto|mih|scan] [--output table|ndjson]</c>:
/// runs each query and shows, per segment, the plan chosen, the planner's estimates and the actual
/// reads (probes, candidates, rows scanned, time).
/// </summary>
internal static class ExplainCommand
{
    public static Command Build(CliContext context)
    {
        var database = CommonOptions.Database();
        var file = CommonOptions.InputFile();
        var collection = CommonOptions.Collection();
        var format = CommonOptions.Format("The query format: hdbc, hex (one code per line) or ndjson ({\"code\":\"HEX\"} per line).");
        var k = new Option<int?>("--k") { Description = "Explain the k-nearest search of each query." };
        var radius = new Option<int?>("--radius") { Description = "Explain the radius search of each query." };
        var plan = CommonOptions.Plan();
        var output = new Option<string>("--output")
        {
            Description = "table (default): one table per query; ndjson: one JSON object per query with a \"segments\" array.",
            DefaultValueFactory = _ => "table",
        };
        output.AcceptOnlyFromAmong("table", "ndjson");
        var command = new Command("explain", "Runs each query of FILE (or standard input) and shows how every segment was searched: plan, estimates, probes, candidates, rows scanned, time. It first waits until the MIH tables are checked and the cost model calibrated.")
        {
            database, file, collection, format, k, radius, plan, output,
        };
        command.SetAction(parse =>
        {
            int? kValue = parse.GetValue(k), radiusValue = parse.GetValue(radius);
            CommonOptions.RequireKOrRadius(kValue, radiusValue);
            var settings = new ExplainSettings(parse.GetRequiredValue(database), parse.GetRequiredValue(collection), parse.GetValue(file),
                InputSource.ParseFormat(parse.GetRequiredValue(format)), kValue, radiusValue, CommonOptions.ParsePlan(parse.GetRequiredValue(plan)),
                parse.GetRequiredValue(output));
            return CommonOptions.Wait(() => RunAsync(settings, context));
        });
        return command;
    }

    public static Task<int> RunAsync(ExplainSettings settings, CliContext context) =>
        DatabaseSession.SearchAsync(settings.Database, settings.Collection, settings.File, settings.Format, context,
            queries => new Action(settings, queries, context.Stdout));

    // The width the explain tables are laid out in (they take only what their cells need).
    private const int TableWidth = 4096;

    private sealed class Action(ExplainSettings settings, List<ulong[]> queries, TextWriter stdout) : ICollectionAction<bool>
    {
        public bool Run<TKey>(HammingCollection<TKey> collection, CollectionInfo info, KeyFormat<TKey> keys)
            where TKey : notnull
        {
            // Explain the plans of a database that has settled: tables checked, costs calibrated.
            collection.WaitForTables();
            using var line = new JsonLine();
            for (int q = 0; q < queries.Count; q++)
            {
                QueryExplanation explanation = settings.K is { } k
                    ? collection.ExplainKnn(queries[q], k, settings.Plan)
                    : collection.ExplainRadius(queries[q], settings.Radius!.Value, settings.Plan);
                if (settings.Output == "ndjson")
                {
                    WriteJson(line.Start(), q, explanation);
                    line.WriteTo(stdout);
                }
                else
                {
                    WriteTable(q, explanation);
                }
            }
            return true;
        }

        private static void WriteJson(Utf8JsonWriter json, int query, QueryExplanation e)
        {
            json.WriteStartObject();
            json.WriteNumber("query", query);
            json.WriteString("op", e.Operation);
            if (e.K is { } k)
            {
                json.WriteNumber("k", k);
            }
            if (e.Radius is { } r)
            {
                json.WriteNumber("radius", r);
            }
            json.WriteString("plan", e.Requested.ToString().ToLowerInvariant());
            json.WriteString("cost_model", e.CostModel);
            json.WriteNumber("memtable_rows", e.MemtableRows);
            json.WriteNumber("results", e.Results);
            json.WriteNumber("elapsed_us", Math.Round(e.Elapsed.TotalMicroseconds, 1));
            json.WriteStartArray("segments");
            foreach (SegmentExplanation s in e.Segments)
            {
                json.WriteStartObject();
                json.WriteNumber("segment", s.FileNumber);
                json.WriteNumber("rows", s.Rows);
                json.WriteNumber("tables", s.Tables);
                json.WriteString("plan", s.Plan);
                json.WriteString("reason", s.Reason);
                WriteEstimate(json, "estimated_mih_us", s.EstimatedMihMicroseconds);
                WriteEstimate(json, "estimated_scan_us", s.EstimatedScanMicroseconds);
                json.WriteNumber("probes", s.Probes);
                json.WriteNumber("candidates", s.Candidates);
                json.WriteNumber("rings", s.Rings);
                json.WriteNumber("rows_scanned", s.RowsScanned);
                json.WriteNumber("found", s.Found);
                json.WriteNumber("elapsed_us", Math.Round(s.Elapsed.TotalMicroseconds, 1));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }

        private static void WriteEstimate(Utf8JsonWriter json, string name, double value)
        {
            if (double.IsNaN(value))
            {
                json.WriteNull(name);
            }
            else
            {
                json.WriteNumber(name, Math.Round(value, 1));
            }
        }

        private void WriteTable(int query, QueryExplanation e)
        {
            // Not the default 80 columns, which wrapped the numbers inside cells: wide enough that every segment
            // is one line (files and pipes stay greppable; a terminal folds long lines itself), and no colour codes.
            IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Out = new AnsiConsoleOutput(stdout),
            });
            console.Profile.Width = TableWidth;
            string what = e.K is { } k ? $"k={k}" : $"r={e.Radius}";
            var table = new Table
            {
                Title = new TableTitle(Markup.Escape(
                    $"query {query}: {e.Operation} {what}, plan {e.Requested.ToString().ToLowerInvariant()}, {e.Results} results in {Us(e.Elapsed.TotalMicroseconds)} us; " +
                    $"memtable {e.MemtableRows} rows scanned; costs: {e.CostModel}")),
            };
            table.AddColumns("segment", "rows", "tables", "plan", "est. MIH us", "est. scan us", "probes", "candidates", "rows scanned", "found", "us", "reason");
            foreach (SegmentExplanation s in e.Segments)
            {
                table.AddRow(new Text(Num(s.FileNumber)), new Text(Num(s.Rows)), new Text(Num(s.Tables)), new Text(s.Plan),
                    new Text(Us(s.EstimatedMihMicroseconds)), new Text(Us(s.EstimatedScanMicroseconds)), new Text(Num(s.Probes)),
                    new Text(Num(s.Candidates)), new Text(Num(s.RowsScanned)), new Text(Num(s.Found)), new Text(Us(s.Elapsed.TotalMicroseconds)),
                    new Text(s.Reason));
            }
            console.Write(table);
        }

        private static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);

        private static string Us(double value) => double.IsNaN(value) ? "-" : value.ToString("0.0", CultureInfo.InvariantCulture);
    }
}
