using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace HammingDB.Encoders.Data;

/// <summary>
/// Whole-file readers of the dataset formats in ../shared/data/README.md (.hdbf, .labels, .gt) and the
/// classic .fvecs and .ivecs, each possibly gzip-compressed (detected by its magic bytes). A
/// malformed file raises an <see cref="InvalidDataException"/> naming the file, the row and the
/// problem; nothing is returned from a file that is not whole and valid. For float vectors too large
/// for memory, stream them with <see cref="FloatVectorReader"/>.
/// </summary>
public static partial class DatasetFiles
{
    /// <summary>The largest .ivecs dimension or .gt k accepted.</summary>
    public const int MaxIntDimension = 1 << 20;

    /// <summary>Every row of a float-vector file (.hdbf, or .fvecs by name or <paramref name="format"/>).</summary>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    public static FloatVectors LoadVectors(string path, VectorFileFormat? format = null)
    {
        using FloatVectorReader reader = FloatVectorReader.Open(path, format);
        return reader.ReadAll();
    }

    /// <summary>The labels of a .labels file, one per row.</summary>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    public static int[] LoadLabels(string path)
    {
        using DatasetSource source = DatasetSource.Open(path);
        (uint field, ulong count) = DatasetHeader.Read(source, DatasetHeader.LabelsMagic, ".labels", _ => 1);
        if (field != 0)
        {
            throw source.Error($"header: the field at offset 8 is {field}; a .labels file has 0 there");
        }
        return ReadInts(source, count, valuesPerRow: 1, ".labels");
    }

    /// <summary>
    /// Ground truth from a .gt file, or from a classic .ivecs file (one row of ids per query) when
    /// the name (without .gz) ends in ".ivecs". Ids must not be negative.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    public static GroundTruth LoadGroundTruth(string path)
    {
        if (WithoutGz(path).EndsWith(".ivecs", StringComparison.OrdinalIgnoreCase))
        {
            IntVectors rows = LoadIvecs(path);
            return CheckedGroundTruth(path, rows.Values, rows.Dimension);
        }
        using DatasetSource source = DatasetSource.Open(path);
        (uint k, ulong queries) = DatasetHeader.Read(source, DatasetHeader.GroundTruthMagic, ".gt", field => field);
        if (k == 0 || k > MaxIntDimension)
        {
            throw source.Error($"header: k = {k} is outside 1..{MaxIntDimension}");
        }
        int[] ids = ReadInts(source, queries, (int)k, ".gt");
        return CheckedGroundTruth(path, ids, (int)k);
    }

    /// <summary>Every row of an .ivecs file.</summary>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    public static IntVectors LoadIvecs(string path)
    {
        using DatasetSource source = DatasetSource.Open(path);
        XvecsRows rows = XvecsRows.Open(source, "ivecs", MaxIntDimension);
        int dimension = rows.Dimension;
        long maxRows = Array.MaxLength / dimension;
        var values = new List<int>(rows.Count is long n ? (int)Math.Min(n * dimension, Array.MaxLength) : dimension);
        var row = new int[dimension];
        while (rows.TryReadRow(MemoryMarshal.AsBytes(row.AsSpan())))
        {
            if (rows.RowsRead > maxRows)
            {
                throw source.Error($"row {rows.RowsRead - 1}: more rows than one array holds at dimension {dimension}");
            }
            FromLittleEndian(row);
            values.AddRange(row);
        }
        return new IntVectors([.. values], dimension);
    }

    private static int[] ReadInts(DatasetSource source, ulong count, int valuesPerRow, string kind)
    {
        UInt128 total = (UInt128)count * (uint)valuesPerRow;
        if (total > (UInt128)Array.MaxLength)
        {
            throw source.Error($"header: {count} rows of {valuesPerRow} values would overflow memory ({total} values; one array holds at most {Array.MaxLength})");
        }
        // A gzip file's count is not confirmed by a length: allocate as the rows arrive, not as the header says.
        int length = (int)total;
        int[] values = source.Compressed ? new int[Math.Min(length, 1 << 20)] : new int[length];
        int held = 0;
        while (held < length)
        {
            if (held == values.Length)
            {
                Array.Resize(ref values, (int)Math.Min((long)values.Length * 2, length));
            }
            Span<byte> bytes = MemoryMarshal.AsBytes(values.AsSpan(held));
            int got = source.ReadAtMost(bytes);
            held += got / 4;
            if (got < bytes.Length)
            {
                throw source.Error(
                    $"truncated: row {held / valuesPerRow} of the {count} rows the header states is incomplete (the file ends at offset {source.Position}); the header's count disagrees with the file length");
            }
        }
        DatasetHeader.ExpectEnd(source, count, kind);
        FromLittleEndian(values);
        return values;
    }

    private static GroundTruth CheckedGroundTruth(string path, int[] ids, int k)
    {
        int negative = Array.FindIndex(ids, id => id < 0);
        if (negative >= 0)
        {
            throw new InvalidDataException($"{path}: row {negative / k}, neighbour {negative % k}: id {ids[negative]} is negative");
        }
        return new GroundTruth(ids, k);
    }

    private static void FromLittleEndian(Span<int> values)
    {
        if (!BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.ReverseEndianness(values, values);
        }
    }

    private static string WithoutGz(string path) =>
        path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
}
