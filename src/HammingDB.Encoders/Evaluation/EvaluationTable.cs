using System.Globalization;
using System.Text;

namespace HammingDB.Encoders.Evaluation;

/// <summary>
/// Formats evaluation results as one table, a row per encoder: a markdown table (for docs) or
/// aligned plain text (for a terminal). Columns appear only for what was measured: recall with
/// ground truth, the label metrics with labels; a rescoring column per oversample factor.
/// </summary>
public static class EvaluationTable
{
    /// <summary>A GitHub-flavoured markdown table.</summary>
    public static string ToMarkdown(IReadOnlyList<EncoderEvaluation> results)
    {
        (string[] header, bool[] numeric, List<string[]> rows) = Build(results);
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", header).Append(" |\n");
        text.Append('|').AppendJoin('|', numeric.Select(n => n ? " ---: " : " --- ")).Append("|\n");
        foreach (string[] row in rows)
        {
            text.Append("| ").AppendJoin(" | ", row.Select(cell => cell.Replace("|", "\\|", StringComparison.Ordinal))).Append(" |\n");
        }
        return text.ToString();
    }

    /// <summary>Plain text with columns padded to their widest cell (numbers right-aligned).</summary>
    public static string ToText(IReadOnlyList<EncoderEvaluation> results)
    {
        (string[] header, bool[] numeric, List<string[]> rows) = Build(results);
        int[] widths = header.Select((h, c) => rows.Select(r => r[c].Length).Append(h.Length).Max()).ToArray();
        var text = new StringBuilder();
        void Line(string[] cells)
        {
            for (int c = 0; c < cells.Length; c++)
            {
                string cell = numeric[c] ? cells[c].PadLeft(widths[c]) : cells[c].PadRight(widths[c]);
                text.Append(c == 0 ? "" : "  ").Append(cell);
            }
            text.Append('\n');
        }
        Line(header);
        Line(widths.Select(w => new string('-', w)).ToArray());
        foreach (string[] row in rows)
        {
            Line(row);
        }
        return text.ToString();
    }

    private static (string[] Header, bool[] Numeric, List<string[]> Rows) Build(IReadOnlyList<EncoderEvaluation> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        bool recall = results.Any(r => r.HammingRecall is not null);
        int[] oversamples = results.SelectMany(r => r.Rescored.Select(s => s.Oversample)).Distinct().Order().ToArray();
        bool labels = results.Any(r => r.Labels is not null);
        bool fullMap = results.Any(r => r.Labels?.Map is not null);
        int[] ks = results.Select(r => r.K).Distinct().ToArray();
        string k = ks.Length == 1 ? ks[0].ToString(CultureInfo.InvariantCulture) : "k";
        int[] rs = results.Where(r => r.Labels is not null).Select(r => r.Labels!.R).Distinct().ToArray();
        string rName = rs.Length == 1 ? rs[0].ToString(CultureInfo.InvariantCulture) : "R";

        var header = new List<string> { "encoder", "kind", "bits" };
        var numeric = new List<bool> { false, false, true };
        void Column(string name)
        {
            header.Add(name);
            numeric.Add(true);
        }
        if (recall)
        {
            Column($"recall@{k}");
            foreach (int o in oversamples)
            {
                Column($"rescored x{o}");
            }
        }
        if (labels)
        {
            Column($"P@{k}");
            Column($"mAP@{rName}");
            if (fullMap)
            {
                Column("mAP");
            }
            Column($"NDCG@{k}");
            Column($"MRR@{k}");
        }
        Column("encode vec/s");
        Column("search ms");

        var rows = new List<string[]>();
        foreach (EncoderEvaluation result in results)
        {
            var row = new List<string> { result.Name, result.Kind.ToString(), Integer(result.CodeBits) };
            if (recall)
            {
                row.Add(Metric(result.HammingRecall));
                foreach (int o in oversamples)
                {
                    row.Add(Metric(result.Rescored.FirstOrDefault(s => s.Oversample == o)?.Recall));
                }
            }
            if (labels)
            {
                LabelQuality? quality = result.Labels;
                row.Add(Metric(quality?.PrecisionAtK));
                row.Add(Metric(quality?.MapAtR));
                if (fullMap)
                {
                    row.Add(Metric(quality?.Map));
                }
                row.Add(Metric(quality?.NdcgAtK));
                row.Add(Metric(quality?.Mrr));
            }
            row.Add(Integer((long)Math.Round(result.EncodeVectorsPerSecond)));
            row.Add(result.HammingSearchTime.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture));
            rows.Add([.. row]);
        }
        return ([.. header], [.. numeric], rows);
    }

    private static string Metric(double? value) => value is double v ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "-";

    private static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);
}
