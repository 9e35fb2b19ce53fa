using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace HammingDB.Encoders.Data;

/// <summary>
/// Streams the rows of a float-vector file (.hdbf or .fvecs, gzip-compressed or not) in blocks, so a
/// file far larger than memory can be encoded block by block. Every row is checked as it is read:
/// a truncated file, a dimension that changes, a count that disagrees with the file's length, bytes
/// after the last row, or a NaN or infinite value raise an <see cref="InvalidDataException"/> naming
/// the file, the row and the problem; rows before it have been returned already, so a caller that
/// must not act on a partial file reads it whole (<see cref="ReadAll"/>) or checks it first.
/// </summary>
public sealed class FloatVectorReader : IDisposable
{
    /// <summary>The largest dimension accepted (a guard against a garbage header or row prefix).</summary>
    public const int MaxDimension = 1 << 20;

    // Values allocated at first by ReadAll when the row count is not checked against the file length
    // (gzip): a header's count is not trusted with memory before the rows are there.
    private const int InitialValuesUnverified = 1 << 22;

    private readonly DatasetSource _source;
    private readonly XvecsRows? _fvecs;
    private bool _ended;

    private FloatVectorReader(DatasetSource source, VectorFileFormat format, int dimension, long? count, XvecsRows? fvecs)
    {
        _source = source;
        Format = format;
        Dimension = dimension;
        Count = count;
        _fvecs = fvecs;
    }

    /// <summary>The file's path.</summary>
    public string Path => _source.Path;

    /// <summary>The file's layout.</summary>
    public VectorFileFormat Format { get; }

    /// <summary>Whether the file is gzip-compressed.</summary>
    public bool Compressed => _source.Compressed;

    /// <summary>The length of every row.</summary>
    public int Dimension { get; }

    /// <summary>The number of rows: from the .hdbf header, or from the length of an uncompressed .fvecs file when it is whole rows; else null (known at the end).</summary>
    public long? Count { get; }

    /// <summary>Rows returned so far.</summary>
    public long RowsRead { get; private set; }

    /// <summary>
    /// Opens a float-vector file. The format is <paramref name="format"/>, else .fvecs when the name
    /// (without a trailing .gz) ends in ".fvecs", else .hdbf. Gzip is detected by its magic bytes.
    /// </summary>
    /// <exception cref="InvalidDataException">The header, or the first row's dimension, is malformed.</exception>
    public static FloatVectorReader Open(string path, VectorFileFormat? format = null) =>
        Open(DatasetSource.Open(path), format ?? FormatFromName(path));

    /// <summary>
    /// Reads a float-vector file of <paramref name="format"/> from <paramref name="stream"/> as it
    /// comes (standard input or a pipe: nothing is sought); <paramref name="name"/> stands for the
    /// path in messages. Gzip is detected by its magic bytes. Disposing the reader leaves the stream open.
    /// </summary>
    /// <exception cref="InvalidDataException">The header, or the first row's dimension, is malformed.</exception>
    public static FloatVectorReader Open(Stream stream, string name, VectorFileFormat format) =>
        Open(DatasetSource.Open(stream, name), format);

    private static FloatVectorReader Open(DatasetSource source, VectorFileFormat chosen)
    {
        try
        {
            if (chosen == VectorFileFormat.Fvecs)
            {
                XvecsRows rows = XvecsRows.Open(source, "fvecs", MaxDimension);
                return new FloatVectorReader(source, chosen, rows.Dimension, rows.Count, rows);
            }
            (uint dimension, ulong count) = DatasetHeader.Read(source, DatasetHeader.VectorsMagic, ".hdbf", field => field);
            if (dimension == 0 || dimension > MaxDimension)
            {
                throw source.Error($"header: dimension {dimension} is outside 1..{MaxDimension}");
            }
            return new FloatVectorReader(source, chosen, (int)dimension, (long)count, fvecs: null);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the next rows into <paramref name="destination"/>: as many whole rows as fit, fewer only
    /// at the end of the file. Returns the number of rows; 0 once every row has been read (and the
    /// end of the file checked).
    /// </summary>
    /// <exception cref="ArgumentException">The destination is shorter than one row.</exception>
    /// <exception cref="InvalidDataException">The rows are malformed.</exception>
    public int ReadRows(Span<float> destination)
    {
        if (destination.Length < Dimension)
        {
            throw new ArgumentException($"the destination holds {destination.Length} floats; one row needs {Dimension}", nameof(destination));
        }
        if (_ended)
        {
            return 0;
        }
        int capacity = destination.Length / Dimension;
        int rows = _fvecs is null ? ReadHdbfRows(destination, capacity) : ReadFvecsRows(destination, capacity);
        CheckFinite(destination[..(rows * Dimension)]);
        RowsRead += rows;
        if (rows == 0 || (Count is long count && RowsRead == count && _fvecs is null))
        {
            if (_fvecs is null)
            {
                DatasetHeader.ExpectEnd(_source, (ulong)Count!.Value, ".hdbf");
            }
            _ended = true;
        }
        return rows;
    }

    /// <summary>The remaining rows in blocks of up to <paramref name="rowsPerBlock"/> rows (each block a new array).</summary>
    public IEnumerable<FloatVectors> ReadBlocks(int rowsPerBlock = 1 << 16)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rowsPerBlock);
        long values = (long)rowsPerBlock * Dimension;
        if (values > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(rowsPerBlock), rowsPerBlock, $"a block of {values} floats does not fit one array");
        }
        return Blocks(rowsPerBlock);
    }

    /// <summary>Every remaining row in one array; the whole file is checked before it returns.</summary>
    /// <exception cref="InvalidDataException">The rows are malformed, or more than one array can hold.</exception>
    public FloatVectors ReadAll()
    {
        long maxRows = Array.MaxLength / Dimension;
        long? remaining = Count - RowsRead;
        if (remaining > maxRows)
        {
            throw _source.Error(
                $"header: {Count} rows of dimension {Dimension} would overflow memory: {(UInt128)(ulong)Count!.Value * (uint)Dimension} floats; one array holds at most {Array.MaxLength}");
        }
        // Trust the count with memory only when the file length confirmed it.
        long firstRows = remaining is long known && !Compressed
            ? known
            : Math.Min(remaining ?? maxRows, Math.Max(1, InitialValuesUnverified / Dimension));
        var values = new float[firstRows * Dimension];
        long held = 0;
        while (true)
        {
            if (held == values.Length / Dimension)
            {
                if (remaining is long all && held == all)
                {
                    // Every row the count promises is in: one more read checks the end of the file.
                    if (ReadRows(new float[Dimension]) != 0)
                    {
                        throw new InvalidOperationException("a row past the count was returned");
                    }
                    break;
                }
                values = Grow(values, held, remaining, maxRows);
            }
            int got = ReadRows(values.AsSpan((int)(held * Dimension)));
            if (got == 0)
            {
                break;
            }
            held += got;
        }
        if (held * Dimension != values.Length)
        {
            Array.Resize(ref values, (int)(held * Dimension));
        }
        return new FloatVectors(values, Dimension);
    }

    /// <inheritdoc />
    public void Dispose() => _source.Dispose();

    private IEnumerable<FloatVectors> Blocks(int rowsPerBlock)
    {
        while (true)
        {
            var block = new float[rowsPerBlock * Dimension];
            int rows = ReadRows(block);
            if (rows == 0)
            {
                yield break;
            }
            yield return new FloatVectors(rows == rowsPerBlock ? block : block.AsSpan(0, rows * Dimension).ToArray(), Dimension);
        }
    }

    private float[] Grow(float[] values, long held, long? remaining, long maxRows)
    {
        long rows = values.Length / Dimension;
        if (rows >= maxRows)
        {
            throw _source.Error(
                $"row {held}: more rows than one array holds at dimension {Dimension} (at most {maxRows}); read the file in blocks");
        }
        long next = Math.Min(Math.Min(maxRows, Math.Max(rows * 2, 1)), remaining ?? maxRows);
        next = Math.Max(next, rows + 1);
        var grown = new float[next * Dimension];
        values.AsSpan(0, (int)(held * Dimension)).CopyTo(grown);
        return grown;
    }

    private int ReadHdbfRows(Span<float> destination, int capacity)
    {
        int rows = (int)Math.Min(capacity, Count!.Value - RowsRead);
        Span<byte> bytes = MemoryMarshal.AsBytes(destination[..(rows * Dimension)]);
        int got = _source.ReadAtMost(bytes);
        if (got < bytes.Length)
        {
            long row = RowsRead + got / (Dimension * 4L);
            throw _source.Error(
                $"truncated: row {row} of the {Count} rows the header states is incomplete (the file ends at offset {_source.Position}); the header's count disagrees with the file length");
        }
        if (!BitConverter.IsLittleEndian)
        {
            Span<int> words = MemoryMarshal.Cast<float, int>(destination[..(rows * Dimension)]);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
        return rows;
    }

    private int ReadFvecsRows(Span<float> destination, int capacity)
    {
        int rows = 0;
        while (rows < capacity)
        {
            Span<float> row = destination.Slice(rows * Dimension, Dimension);
            if (!_fvecs!.TryReadRow(MemoryMarshal.AsBytes(row)))
            {
                break;
            }
            if (!BitConverter.IsLittleEndian)
            {
                Span<int> words = MemoryMarshal.Cast<float, int>(row);
                BinaryPrimitives.ReverseEndianness(words, words);
            }
            rows++;
        }
        return rows;
    }

    private void CheckFinite(ReadOnlySpan<float> values)
    {
        // x - x is 0 for every finite x and NaN for NaN and the infinities.
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            bool allFinite = true;
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(values[i..]);
                if (!Vector.EqualsAll(v - v, Vector<float>.Zero))
                {
                    allFinite = false;
                    break;
                }
            }
            if (allFinite)
            {
                for (; i < values.Length; i++)
                {
                    if (!float.IsFinite(values[i]))
                    {
                        break;
                    }
                }
                if (i == values.Length)
                {
                    return;
                }
            }
        }
        for (i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw _source.Error($"row {RowsRead + i / Dimension}, column {i % Dimension}: {values[i]} is not finite (NaN and infinity are refused)");
            }
        }
    }

    private static VectorFileFormat FormatFromName(string path)
    {
        string name = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        return name.EndsWith(".fvecs", StringComparison.OrdinalIgnoreCase) ? VectorFileFormat.Fvecs : VectorFileFormat.Hdbf;
    }
}
