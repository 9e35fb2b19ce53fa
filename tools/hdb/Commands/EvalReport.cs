using System.Globalization;
using System.Text;
using System.Text.Json;
using HammingDB.Cli.Output;
using HammingDB.Encoders.Evaluation;

namespace HammingDB.Cli.Commands;

/// <summary>
/// The report of <c>hdb eval</c>: one row per encoder and width, as aligned text or a markdown table
/// (written at the end, followed by the notes), or as one JSON object per row (written and flushed
/// as each row is measured). Columns appear only for what was measured: recall with ground truth,
/// a rescoring column per oversample factor, the label metrics with labels.
/// </summary>
internal sealed class EvalReport(string format, TextWriter stdout)
{
    private readonly List<EvalRow> _rows = [];

    /// <summary>Adds a measured row (written at once as ndjson).</summary>
    public void Add(EvalRow row)
    {
        _rows.Add(row);
        if (format == "ndjson")
        {
            using var line = new JsonLine();
            WriteJson(line.Start(), row);
            line.WriteTo(stdout);
            stdout.Flush();
        }
    }

    /// <summary>Writes the table and the notes (nothing more for ndjson: the notes went to stderr).</summary>
    public void Finish(IReadOnlyList<string> notes)
    {
        if (format == "ndjson")
        {
            return;
        }
        (string[] header, List<string[]> cells) = Table(_rows);
        stdout.Write(format == "markdown" ? Markdown(header, cells) : Text(header, cells));
        if (notes.Count > 0)
        {
            stdout.Write('\n');
            foreach (string note in notes)
            {
                stdout.Write(format == "markdown" ? $"- {note}\n" : $"note: {note}\n");
            }
        }
    }

    /// <summary>The header and the cells of every row; the first two columns are text, the rest numbers.</summary>
    internal static (string[] Header, List<string[]> Rows) Table(IReadOnlyList<EvalRow> rows)
    {
        IEnumerable<EncoderEvaluation> results = rows.Select(r => r.Result);
        bool recall = results.Any(r => r.HammingRecall is not null);
        int[] oversamples = [.. results.SelectMany(r => r.Rescored.Select(s => s.Oversample)).Distinct().Order()];
        bool labels = results.Any(r => r.Labels is not null);
        bool fullMap = results.Any(r => r.Labels?.Map is not null);
        string k = rows.Count > 0 ? Integer(rows[0].Result.K) : "k";
        string r = results.FirstOrDefault(x => x.Labels is not null)?.Labels!.R is int rValue ? Integer(rValue) : "R";

        var header = new List<string> { "encoder", "kind", "bits", "train s", "encode vec/s" };
        if (recall)
        {
            header.Add($"recall@{k}");
            header.AddRange(oversamples.Select(o => $"rescored x{Integer(o)}"));
        }
        if (labels)
        {
            header.Add($"P@{k}");
            header.Add($"mAP@{r}");
            if (fullMap)
            {
                header.Add("mAP");
            }
            header.Add($"NDCG@{k}");
            header.Add($"MRR@{k}");
        }
        header.Add("search ms");

        var cells = new List<string[]>();
        foreach (EvalRow row in rows)
        {
            EncoderEvaluation result = row.Result;
            var line = new List<string>
            {
                row.Name,
                result.Kind.ToString(),
                Integer(result.CodeBits),
                row.TrainTime.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture),
                Integer((long)Math.Round(row.EncodeVectorsPerSecond)),
            };
            if (recall)
            {
                line.Add(Metric(result.HammingRecall));
                line.AddRange(oversamples.Select(o => Metric(result.Rescored.FirstOrDefault(s => s.Oversample == o)?.Recall)));
            }
            if (labels)
            {
                LabelQuality? quality = result.Labels;
                line.Add(Metric(quality?.PrecisionAtK));
                line.Add(Metric(quality?.MapAtR));
                if (fullMap)
                {
                    line.Add(Metric(quality?.Map));
                }
                line.Add(Metric(quality?.NdcgAtK));
                line.Add(Metric(quality?.Mrr));
            }
            line.Add(result.HammingSearchTime.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture));
            cells.Add([.. line]);
        }
        return ([.. header], cells);
    }

    private static string Markdown(string[] header, List<string[]> rows)
    {
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", header).Append(" |\n");
        text.Append('|').AppendJoin('|', header.Select((_, c) => c < 2 ? " --- " : " ---: ")).Append("|\n");
        foreach (string[] row in rows)
        {
            text.Append("| ").AppendJoin(" | ", row).Append(" |\n");
        }
        return text.ToString();
    }

    private static string Text(string[] header, List<string[]> rows)
    {
        int[] widths = [.. header.Select((h, c) => rows.Select(row => row[c].Length).Append(h.Length).Max())];
        var text = new StringBuilder();
        void Line(string[] cells)
        {
            for (int c = 0; c < cells.Length; c++)
            {
                text.Append(c == 0 ? "" : "  ").Append(c < 2 ? cells[c].PadRight(widths[c]) : cells[c].PadLeft(widths[c]));
            }
            text.Append('\n');
        }
        Line(header);
        Line([.. widths.Select(w => new string('-', w))]);
        rows.ForEach(Line);
        return text.ToString();
    }

    private static void WriteJson(Utf8JsonWriter json, EvalRow row)
    {
        EncoderEvaluation result = row.Result;
        json.WriteStartObject();
        json.WriteString("encoder", row.Name);
        json.WriteString("kind", result.Kind.ToString());
        json.WriteNumber("bits", result.CodeBits);
        json.WriteNumber("k", result.K);
        json.WriteNumber("base", result.BaseCount);
        json.WriteNumber("queries", result.QueryCount);
        json.WriteNumber("train_rows", row.TrainRows);
        json.WriteNumber("train_s", Math.Round(row.TrainTime.TotalSeconds, 4));
        json.WriteNumber("encode_vectors_per_s", Math.Round(row.EncodeVectorsPerSecond));
        json.WriteNumber("search_ms", Math.Round(result.HammingSearchTime.TotalMilliseconds, 3));
        if (result.HammingRecall is double recall)
        {
            json.WriteNumber("recall", recall);
            json.WriteStartArray("rescored");
            foreach (RescoredRecall rescored in result.Rescored)
            {
                json.WriteStartObject();
                json.WriteNumber("oversample", rescored.Oversample);
                json.WriteNumber("candidates", rescored.Candidates);
                json.WriteNumber("recall", rescored.Recall);
                json.WriteNumber("rescore_ms", Math.Round(rescored.RescoreTime.TotalMilliseconds, 3));
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        if (result.Labels is LabelQuality labels)
        {
            json.WriteNumber("precision", labels.PrecisionAtK);
            json.WriteNumber("map_at_r", labels.MapAtR);
            json.WriteNumber("r", labels.R);
            if (labels.Map is double map)
            {
                json.WriteNumber("map", map);
            }
            json.WriteNumber("ndcg", labels.NdcgAtK);
            json.WriteNumber("mrr", labels.Mrr);
        }
        json.WriteEndObject();
    }

    private static string Metric(double? value) => value is double v ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "-";

    private static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);
}
