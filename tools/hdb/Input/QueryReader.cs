using HammingDB.Encoders;
using HammingDB.Encoders.Data;
using HammingDB.Kernels;

namespace HammingDB.Cli.Input;

/// <summary>
/// Queries of an input: codes, or float vectors (then <see cref="Vectors"/> holds them and
/// <see cref="Codes"/> their codes by the collection's encoder).
/// </summary>
internal sealed record QuerySet(List<ulong[]> Codes, List<float[]>? Vectors);

/// <summary>
/// Reads the queries of an input: hex lines (the code alone), .hdbc codes, ndjson objects with a
/// "code" or a "vector" member (other members are ignored; every line of one kind), or the rows of an
/// .hdbf or .fvecs file. Vectors are encoded by the collection's encoder. Either every query is held
/// (at most <see cref="MaxHeldBytes"/>), or they are handed over <see cref="ChunkQueries"/> at a time
/// (<see cref="ForEachChunkAsync"/>), so that a file of any length is read in bounded memory.
/// </summary>
internal sealed class QueryReader : ILineHandler, ICodeHandler
{
    /// <summary>Queries handed over at a time by <see cref="ForEachChunkAsync"/>.</summary>
    public const int ChunkQueries = 1024;

    /// <summary>The most query data held when every query is read before any runs: 64 MiB.</summary>
    public const long MaxHeldBytes = 64L << 20;

    private readonly CodeLayout _layout;
    private readonly InputFormat _format;
    private readonly string _collection;
    private readonly string _source;
    private readonly VectorTarget _vectors;
    private readonly VectorEncoder? _encoder;
    private readonly Action<QuerySet>? _onChunk;
    private List<ulong[]> _queries = [];
    private List<float[]> _vectorQueries = [];
    private bool? _areVectors;
    private long _heldBytes;

    private QueryReader(CodeLayout layout, InputFormat format, string collection, string source, VectorTarget vectors, VectorEncoder? encoder,
        Action<QuerySet>? onChunk)
    {
        _layout = layout;
        _format = format;
        _collection = collection;
        _source = source;
        _vectors = vectors;
        _encoder = encoder;
        _onChunk = onChunk;
    }

    /// <summary>Every query code, held (a "vector" is refused, saying <paramref name="noVectors"/>).</summary>
    /// <exception cref="InputException">Bad input, or more than <see cref="MaxHeldBytes"/> of queries.</exception>
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
    /// Every query, held: codes or vectors; vectors are encoded by <paramref name="encoder"/> (null: the
    /// collection has none, and vectors are refused saying <paramref name="noEncoder"/>).
    /// </summary>
    /// <exception cref="InputException">Bad input, or more than <see cref="MaxHeldBytes"/> of queries.</exception>
    public static async Task<QuerySet> ReadAsync(InputSource source, InputFormat format, CodeLayout layout, string collection, VectorEncoder? encoder,
        string noEncoder)
    {
        QueryReader reader = await RunAsync(source, format, layout, collection, encoder, noEncoder, onChunk: null).ConfigureAwait(false);
        return reader.Held();
    }

    /// <summary>
    /// Hands the queries to <paramref name="onChunk"/> <see cref="ChunkQueries"/> at a time, in input
    /// order, holding no more than one chunk; returns whether they are vectors (null: there were none).
    /// </summary>
    /// <exception cref="InputException">Bad input (the chunks before it were handed over).</exception>
    public static async Task<bool?> ForEachChunkAsync(InputSource source, InputFormat format, CodeLayout layout, string collection, VectorEncoder? encoder,
        string noEncoder, Action<QuerySet> onChunk)
    {
        QueryReader reader = await RunAsync(source, format, layout, collection, encoder, noEncoder, onChunk).ConfigureAwait(false);
        reader.Flush();
        return reader._areVectors;
    }

    private static async Task<QueryReader> RunAsync(InputSource source, InputFormat format, CodeLayout layout, string collection, VectorEncoder? encoder,
        string noEncoder, Action<QuerySet>? onChunk)
    {
        VectorTarget target = encoder is null ? VectorTarget.None(noEncoder) : VectorTarget.Of(encoder.Dimension, collection);
        var reader = new QueryReader(layout, format, collection, source.Name, target, encoder, onChunk);
        if (InputSource.IsVectorFile(format))
        {
            if (encoder is null)
            {
                throw new InputException($"{source.Name}: {noEncoder}.");
            }
            using FloatVectorReader file = VectorFile.Open(source, format, encoder.Dimension, collection);
            reader.ReadVectorFile(file);
        }
        else if (format == InputFormat.Hdbc)
        {
            await HdbcStreamReader.ReadAsync(source.Stream, source.Name, reader).ConfigureAwait(false);
        }
        else
        {
            await LineReader.ReadAsync(source.Stream, source.Name, reader).ConfigureAwait(false);
        }
        return reader;
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
            Added(code.Length, 0);
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
            Added(_layout.WordsPerCode, _vectors.Buffer!.Length);
        }
        else
        {
            _queries.Add(code);
            Added(code.Length, 0);
        }
    }

    public void Header(int bits, ulong count)
    {
        if (bits != _layout.CodeBits)
        {
            throw new RecordException($"the queries are {bits}-bit codes, but collection '{_collection}' holds {_layout.CodeBits}-bit codes");
        }
    }

    public void Code(ReadOnlySpan<ulong> code, long index)
    {
        _queries.Add(code.ToArray());
        Added(code.Length, 0);
    }

    // The rows of an .hdbf or .fvecs file, a block at a time.
    private void ReadVectorFile(FloatVectorReader file)
    {
        _areVectors = true;
        using IEnumerator<FloatVectors> blocks = file.ReadBlocks(ChunkQueries).GetEnumerator();
        while (VectorFile.Call(blocks.MoveNext))
        {
            FloatVectors block = blocks.Current;
            for (int i = 0; i < block.Count; i++)
            {
                _vectorQueries.Add(block.Row(i).ToArray());
                Added(_layout.WordsPerCode, file.Dimension);
            }
        }
    }

    // Counts a query just read: a full chunk goes to the handler; held queries may not pass MaxHeldBytes.
    private void Added(int words, int floats)
    {
        if (_onChunk is not null)
        {
            if (_queries.Count + _vectorQueries.Count >= ChunkQueries)
            {
                Flush();
            }
            return;
        }
        // The arrays' contents and headers, and the list slots.
        _heldBytes += 8L * words + 4L * floats + 64;
        if (_heldBytes > MaxHeldBytes)
        {
            throw new InputException($"{_source}: the queries take more than {MaxHeldBytes >> 20} MiB, the most hdb holds at once. " +
                "hdb reads every query of standard input or a pipe before it runs any (so that bad input prints nothing), and 'hdb explain' " +
                $"reads all of any input: give 'hdb query' a regular file (checked whole, then run {ChunkQueries} queries at a time), or split the queries.");
        }
    }

    // Hands the queries read since the last chunk to the handler.
    private void Flush()
    {
        if (_onChunk is null || _queries.Count + _vectorQueries.Count == 0)
        {
            return;
        }
        QuerySet chunk = Held();
        _queries = [];
        _vectorQueries = [];
        _onChunk(chunk);
    }

    private QuerySet Held() => _areVectors == true ? new QuerySet(Encode(_encoder!, _vectorQueries), _vectorQueries) : new QuerySet(_queries, null);

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
