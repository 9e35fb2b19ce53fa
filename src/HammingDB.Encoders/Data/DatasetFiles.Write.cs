using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace HammingDB.Encoders.Data;

// Writers of the same formats, for tests and tools. They write what the readers accept and refuse
// (ArgumentException) what the readers would refuse, such as NaN in a vector.
public static partial class DatasetFiles
{
    /// <summary>Writes <paramref name="vectors"/> to <paramref name="path"/> (replaced if it exists), gzip-compressed when <paramref name="compress"/>.</summary>
    /// <exception cref="ArgumentException">A value is NaN or infinite.</exception>
    public static void WriteVectors(string path, FloatVectors vectors, VectorFileFormat format = VectorFileFormat.Hdbf, bool compress = false)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        CheckFinite(vectors.Values, vectors.Dimension);
        using Stream stream = Create(path, compress);
        if (format == VectorFileFormat.Hdbf)
        {
            WriteHdbf(stream, vectors.Values, vectors.Dimension);
        }
        else
        {
            WriteXvecs(stream, MemoryMarshal.Cast<float, int>(vectors.Values.AsSpan()), vectors.Dimension);
        }
    }

    /// <summary>Writes an .hdbf header and <paramref name="rowMajor"/> (whole rows of <paramref name="dimension"/>) to <paramref name="stream"/>.</summary>
    /// <exception cref="ArgumentException">The values are not whole rows, or one is NaN or infinite.</exception>
    public static void WriteHdbf(Stream stream, ReadOnlySpan<float> rowMajor, int dimension)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (rowMajor.Length % dimension != 0)
        {
            throw new ArgumentException($"{rowMajor.Length} values are not whole rows of dimension {dimension}", nameof(rowMajor));
        }
        CheckFinite(rowMajor, dimension);
        Span<byte> header = stackalloc byte[DatasetHeader.Bytes];
        DatasetHeader.Write(header, DatasetHeader.VectorsMagic, (uint)dimension, (ulong)(rowMajor.Length / dimension));
        stream.Write(header);
        WriteValues(stream, MemoryMarshal.Cast<float, int>(rowMajor));
    }

    /// <summary>Writes a .labels file.</summary>
    public static void WriteLabels(string path, ReadOnlySpan<int> labels, bool compress = false)
    {
        using Stream stream = Create(path, compress);
        Span<byte> header = stackalloc byte[DatasetHeader.Bytes];
        DatasetHeader.Write(header, DatasetHeader.LabelsMagic, 0, (ulong)labels.Length);
        stream.Write(header);
        WriteValues(stream, labels);
    }

    /// <summary>Writes a .gt file, or a classic .ivecs file when the name (without .gz) ends in ".ivecs".</summary>
    public static void WriteGroundTruth(string path, GroundTruth truth, bool compress = false)
    {
        ArgumentNullException.ThrowIfNull(truth);
        if (WithoutGz(path).EndsWith(".ivecs", StringComparison.OrdinalIgnoreCase))
        {
            WriteIvecs(path, new IntVectors(truth.Ids, truth.K), compress);
            return;
        }
        using Stream stream = Create(path, compress);
        Span<byte> header = stackalloc byte[DatasetHeader.Bytes];
        DatasetHeader.Write(header, DatasetHeader.GroundTruthMagic, (uint)truth.K, (ulong)truth.QueryCount);
        stream.Write(header);
        WriteValues(stream, truth.Ids);
    }

    /// <summary>Writes an .ivecs file.</summary>
    public static void WriteIvecs(string path, IntVectors rows, bool compress = false)
    {
        ArgumentNullException.ThrowIfNull(rows);
        using Stream stream = Create(path, compress);
        WriteXvecs(stream, rows.Values, rows.Dimension);
    }

    private static Stream Create(string path, bool compress)
    {
        var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        return compress ? new GZipStream(file, CompressionLevel.Fastest, leaveOpen: false) : file;
    }

    private static void WriteXvecs(Stream stream, ReadOnlySpan<int> rowMajor, int dimension)
    {
        Span<byte> prefix = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(prefix, dimension);
        for (int start = 0; start < rowMajor.Length; start += dimension)
        {
            stream.Write(prefix);
            WriteValues(stream, rowMajor.Slice(start, dimension));
        }
    }

    private static void WriteValues(Stream stream, ReadOnlySpan<int> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }
        Span<byte> word = stackalloc byte[4];
        foreach (int value in values)
        {
            BinaryPrimitives.WriteInt32LittleEndian(word, value);
            stream.Write(word);
        }
    }

    private static void CheckFinite(ReadOnlySpan<float> values, int dimension)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new ArgumentException($"row {i / dimension}, column {i % dimension}: {values[i]} is not finite", nameof(values));
            }
        }
    }
}
