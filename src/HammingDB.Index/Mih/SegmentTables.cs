using HammingDB.Kernels;
using HammingDB.Storage.Segments;

namespace HammingDB.Index.Mih;

/// <summary>The MIH tables of a segment: built when it is written (seal, compaction), opened over the mapped file when it is read.</summary>
internal static class SegmentTables
{
    /// <summary>
    /// Whether segments of codes over 64 bits get filter words by default (<see cref="MihPostingWords.FilterWords"/>): on, as
    /// measured on c256-1m (radius 4..24 and kNN1 about 0.4-0.65x the time without; kNN10 even) for 8 bytes more per posting.
    /// </summary>
    public const bool DefaultFilterWords = true;

    /// <summary>
    /// The tables of a segment of <paramref name="codes"/>, with the layout <see cref="MihLayout.Choose"/> picks; none below
    /// <paramref name="minRows"/> rows. Codes over 64 bits get filter words when <paramref name="filterWords"/>. The tables are built in parallel, each in two passes over the rows.
    /// </summary>
    public static IReadOnlyList<SegmentMihTable> Build(CodeBlock codes, int minRows, bool filterWords = DefaultFilterWords)
    {
        if (codes.Count == 0 || codes.Count < minRows)
        {
            return [];
        }
        MihLayout layout = MihLayout.Choose(codes.Layout.CodeBits, codes.Count);
        var tables = new SegmentMihTable[layout.Count];
        Parallel.For(0, layout.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, i =>
        {
            (int[] offsets, int[] rows, ulong[]? inline, ulong[]? filters) = MihTable.BuildArrays(codes, layout, i, filterWords);
            tables[i] = new SegmentMihTable { Start = layout.Start(i), Bits = layout.Bits(i), DirectBits = layout.DirectBits(i), Offsets = offsets, Rows = rows, Codes = inline, FilterWords = filters };
        });
        return tables;
    }

    /// <summary>The index over the tables mapped from <paramref name="reader"/>, or null when the segment has none.</summary>
    /// <exception cref="ArgumentException">The stored tables do not form a layout of the segment's codes.</exception>
    public static MihIndex? Open(SegmentReader reader)
    {
        if (reader.MihTables.Count == 0)
        {
            return null;
        }
        var tables = reader.MihTables
            .Select(t => MihTable.Wrap(t.Start, t.Bits, t.DirectBits, reader.Rows, t.Offsets, t.Rows, t.Words,
                t.HasInlineCodes ? MihPostingWords.Codes : t.HasFilterWords ? MihPostingWords.FilterWords : MihPostingWords.None))
            .ToList();
        return new MihIndex(reader.Codes, tables);
    }
}
