using HammingDB.Encoders.Data;

namespace HammingDB.Cli.Input;

/// <summary>
/// Reads .hdbf and .fvecs inputs (gzip or not) through <see cref="FloatVectorReader"/>, from a file or
/// standard input alike; the reader's complaints (a truncated file, a dimension that changes, NaN or
/// infinity, each naming the row and column) become <see cref="InputException"/>s (exit 2).
/// </summary>
internal static class VectorFile
{
    public static VectorFileFormat FormatOf(InputFormat format) => format == InputFormat.Fvecs ? VectorFileFormat.Fvecs : VectorFileFormat.Hdbf;

    /// <summary>Opens <paramref name="source"/> as a float-vector file and checks its dimension is <paramref name="dimension"/>.</summary>
    public static FloatVectorReader Open(InputSource source, InputFormat format, int dimension, string collection)
    {
        FloatVectorReader reader = Call(() => FloatVectorReader.Open(source.Stream, source.Name, FormatOf(format)));
        if (reader.Dimension != dimension)
        {
            reader.Dispose();
            throw new InputException($"{source.Name}: the vectors have dimension {reader.Dimension}, but collection '{collection}' takes vectors of dimension {dimension}.");
        }
        return reader;
    }

    /// <summary>The next rows (as <see cref="FloatVectorReader.ReadRows"/>), bad data as <see cref="InputException"/>.</summary>
    public static int ReadRows(FloatVectorReader reader, Span<float> destination)
    {
        try
        {
            return reader.ReadRows(destination);
        }
        catch (InvalidDataException e)
        {
            throw Bad(e);
        }
    }

    /// <summary>Runs <paramref name="read"/>; an <see cref="InvalidDataException"/> (malformed data) becomes an <see cref="InputException"/>.</summary>
    public static T Call<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidDataException e)
        {
            throw Bad(e);
        }
    }

    private static InputException Bad(InvalidDataException e) => new(e.Message.EndsWith('.') ? e.Message : e.Message + ".");
}
