using System.Buffers.Binary;

namespace HammingDB.Encoders.Data;

/// <summary>
/// The rows of an .fvecs or .ivecs file (TEXMEX layout, little-endian, no header):
/// <code>
/// per row: int32 dimension, then dimension values of 4 bytes (float32 or int32)
/// </code>
/// Every row must have the first row's dimension. The row count is the file length over the row
/// size when that divides (an uncompressed file), else known only at the end.
/// </summary>
internal sealed class XvecsRows
{
    private readonly DatasetSource _source;
    private readonly string _kind;
    private bool _dimensionPending;

    private XvecsRows(DatasetSource source, string kind, int dimension, long? count)
    {
        _source = source;
        _kind = kind;
        Dimension = dimension;
        Count = count;
        _dimensionPending = true;
    }

    /// <summary>The dimension every row has.</summary>
    public int Dimension { get; }

    /// <summary>The row count, when the file length gives it.</summary>
    public long? Count { get; }

    /// <summary>Rows read so far.</summary>
    public long RowsRead { get; private set; }

    /// <summary>Reads the first row's dimension, and checks the file length when it is known.</summary>
    public static XvecsRows Open(DatasetSource source, string kind, int maxDimension)
    {
        Span<byte> prefix = stackalloc byte[4];
        int got = source.ReadAtMost(prefix);
        if (got == 0)
        {
            throw source.Error($"empty {kind} file: no row gives the dimension");
        }
        if (got < 4)
        {
            throw source.Error($"truncated: row 0 ends inside its 4-byte dimension ({got} bytes)");
        }
        int dimension = BinaryPrimitives.ReadInt32LittleEndian(prefix);
        if (dimension <= 0 || dimension > maxDimension)
        {
            throw source.Error($"row 0: dimension {dimension} is outside 1..{maxDimension}");
        }
        // The length gives the count when it is a whole number of rows; otherwise reading finds the
        // row where the dimension changes or the data ends, which says more than the length would.
        long? count = null;
        if (source.Length is long length && length % (4 + 4L * dimension) == 0)
        {
            count = length / (4 + 4L * dimension);
        }
        return new XvecsRows(source, kind, dimension, count);
    }

    /// <summary>Reads the next row's <see cref="Dimension"/> values into <paramref name="values"/> (raw little-endian bytes); false at the end of the file.</summary>
    public bool TryReadRow(Span<byte> values)
    {
        long row = RowsRead;
        if (!_dimensionPending)
        {
            Span<byte> prefix = stackalloc byte[4];
            int got = _source.ReadAtMost(prefix);
            if (got == 0)
            {
                if (Count is long count && count != row)
                {
                    throw _source.Error($"truncated: the file ends at row {row}; its length gave {count} rows");
                }
                return false;
            }
            if (got < 4)
            {
                throw _source.Error($"truncated: row {row} ends inside its 4-byte dimension ({got} bytes)");
            }
            int dimension = BinaryPrimitives.ReadInt32LittleEndian(prefix);
            if (dimension != Dimension)
            {
                throw _source.Error($"row {row}: dimension {dimension} differs from row 0's {Dimension} (the dimension changes between rows)");
            }
        }
        _dimensionPending = false;
        int read = _source.ReadAtMost(values);
        if (read < values.Length)
        {
            throw _source.Error($"truncated: row {row} needs {values.Length} bytes of {_kind} values; the file ends after {read}");
        }
        RowsRead++;
        return true;
    }
}
