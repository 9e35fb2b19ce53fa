namespace HammingDB.Encoders.Data;

/// <summary>
/// <see cref="Count"/> vectors of <see cref="Dimension"/> values, row-major in one array
/// (row i is <c>Values[i * Dimension .. (i + 1) * Dimension]</c>).
/// </summary>
/// <typeparam name="T">The value type (float for vectors, int for ids).</typeparam>
public abstract class RowMajor<T>
    where T : unmanaged
{
    /// <summary>Wraps <paramref name="values"/> (not copied) as rows of <paramref name="dimension"/>.</summary>
    /// <exception cref="ArgumentException">The array is not a whole number of rows.</exception>
    protected RowMajor(T[] values, int dimension)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (values.Length % dimension != 0)
        {
            throw new ArgumentException($"{values.Length} values are not whole rows of dimension {dimension}", nameof(values));
        }
        Values = values;
        Dimension = dimension;
        Count = values.Length / dimension;
    }

    /// <summary>The values of every row, one row after another.</summary>
    public T[] Values { get; }

    /// <summary>The length of each row.</summary>
    public int Dimension { get; }

    /// <summary>The number of rows.</summary>
    public int Count { get; }

    /// <summary>The values of row <paramref name="row"/>.</summary>
    public ReadOnlySpan<T> Row(int row)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Count, nameof(row));
        return Values.AsSpan(row * Dimension, Dimension);
    }
}
