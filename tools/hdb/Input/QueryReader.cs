using HammingDB.Encoders;
using HammingDB.Encoders.Data;
using HammingDB.Kernels;

namespace HammingDB.Cli.Input;

/// <summary>
/// The queries of an input, all read before any runs: codes, or float vectors (then
/// <see cref="Vectors"/> holds them and <see cref="Codes"/> their codes by the collection's encoder).
/// </summary>
internal sealed record QuerySet(List<ulong[]> Codes, List<float[]>? Vectors);

/// <summary>
/// Reads every query of an input before any is run (bad input prints nothing): hex lines (the code
/// alone), .hdbc codes, ndjson objects with a "code" or a "vector" member (other members are ignored;
/// every line of one kind), or the rows of an .hdbf or .fvecs file. Vectors are encoded by the
/// collection's encoder.
/// </summary>
internal sealed class QueryReader : ILineHandler, ICodeHandler
{
    private readonly CodeLayout _layout;
    private readonly InputFormat _format;
    private readonly string _collection;
    private readonly VectorTarget _vectors;
    private readonly List<ulong[]> _queries = [];
    private readonly List<float[]> _vectorQueries = [];
    private bool? _areVectors;

    private QueryReader(CodeLayout layout, InputFormat format, string collection, VectorTarget vectors)
    {
        _layout = layout;
        _format = format;
        _collection = collection;
        _vectors = vectors;
    }

    /// <summary>Query codes only (a "vector" is refused, saying <paramref name="noVectors"/>).</summary>
    public static async Task<List<ulong[]>> ReadAsync(InputSource source, InputFormat format, CodeLayout layout, string collection, string noVectors)
    {
        if (InputSource.IsVectorFile(format))
        {
            throw new InputException($"{source.Name}: {noVectors}.");
        }
        QuerySet set = await ReadAsync(source, format, layout, collection, null, noVectors).ConfigureAwait(false);
        return set.Codes;
    }

    /// <summary>
    /// Query codes or vectors; vectors are encoded by <paramref name="encoder"/> (null: the collection
    /// has none, and vectors are refused saying <paramref name="noEncoder"/>).
    /// </summary>
    public static async Task<QuerySet> ReadAsync(InputSource source, InputFormat format, CodeLayout layout, string collection, VectorEncoder? encoder,
        string noEncoder)
    {
        if (InputSource.IsVectorFile(format))
        {
            if (encoder is null)
            {
                throw new InputException($"{source.Name}: {noEncoder}.");
            }
            using FloatVectorReader file = VectorFile.Open(source, format, encoder.Dimension, collection);
            FloatVectors all = VectorFile.Call(file.ReadAll);
            var vectors = new List<float[]>(all.Count);
            for (int i = 0; i < all.Count; i++)
            {
                vectors.Add(all.Row(i).ToArray());
            }
            return new QuerySet(Encode(encoder, vectors), vectors);
        }
        VectorTarget target = encoder is null ? VectorTarget.None(noEncoder) : VectorTarget.Of(encoder.Dimension, collection);
        var reader = new QueryReader(layout, format, collection, target);
        if (format == InputFormat.Hdbc)
        {
            await HdbcStreamReader.ReadAsync(source.Stream, source.Name, reader).ConfigureAwait(false);
        }
        else
        {
            await LineReader.ReadAsync(source.Stream, source.Name, reader).ConfigureAwait(false);
        }
        if (reader._areVectors == true)
        {
            return new QuerySet(Encode(encoder!, reader._vectorQueries), reader._vectorQueries);
        }
        return new QuerySet(reader._queries, null);
    }

    public void Line(ReadOnlySpan<byte> line, long lineNumber)
    {
        var code = new ulong[_layout.WordsPerCode];
        if (_format == InputFormat.Hex)
        {
            if (line.IsEmpty)
            {
                throw new RecordException("the line is empty (each line holds one query code)");
            }
            Hex.DecodeCode(line, _layout, code, column: 1);
            _queries.Add(code);
            return;
        }
        bool isVector = NdjsonRecord.ParseQuery(line, _layout, code, _vectors);
        if (_areVectors is bool before && before != isVector)
        {
            throw new RecordException(isVector
                ? "the object has \"vector\", but the lines before it have \"code\" (all queries of an input are of one kind)"
                : "the object has \"code\", but the lines before it have \"vector\" (all queries of an input are of one kind)");
        }
        _areVectors = isVector;
        if (isVector)
        {
            _vectorQueries.Add((float[])_vectors.Buffer!.Clone());
        }
        else
        {
            _queries.Add(code);
        }
    }

    public void Header(int bits, ulong count)
    {
        if (bits != _layout.CodeBits)
        {
            throw new RecordException($"the queries are {bits}-bit codes, but collection '{_collection}' holds {_layout.CodeBits}-bit codes");
        }
    }

    public void Code(ReadOnlySpan<ulong> code, long index) => _queries.Add(code.ToArray());

    // Every vector was checked (dimension, finite) as it was read: encoding cannot refuse one.
    private static List<ulong[]> Encode(VectorEncoder encoder, List<float[]> vectors)
    {
        var codes = new List<ulong[]>(vectors.Count);
        foreach (float[] vector in vectors)
        {
            var code = new ulong[encoder.Layout.WordsPerCode];
            encoder.Encode(vector, code);
            codes.Add(code);
        }
        return codes;
    }
}
