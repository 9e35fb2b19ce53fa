using HammingDB.Kernels;

namespace HammingDB.Cli.Input;

/// <summary>
/// Reads every query of an input before any is run (bad input prints nothing): hex lines (the code
/// alone), .hdbc codes, or ndjson objects with a "code" member (other members are ignored).
/// </summary>
internal sealed class QueryReader : ILineHandler, ICodeHandler
{
    private readonly CodeLayout _layout;
    private readonly InputFormat _format;
    private readonly string _collection;
    private readonly List<ulong[]> _queries = [];

    private QueryReader(CodeLayout layout, InputFormat format, string collection)
    {
        _layout = layout;
        _format = format;
        _collection = collection;
    }

    public static async Task<List<ulong[]>> ReadAsync(InputSource source, InputFormat format, CodeLayout layout, string collection)
    {
        var reader = new QueryReader(layout, format, collection);
        if (format == InputFormat.Hdbc)
        {
            await HdbcStreamReader.ReadAsync(source.Stream, source.Name, reader).ConfigureAwait(false);
        }
        else
        {
            await LineReader.ReadAsync(source.Stream, source.Name, reader).ConfigureAwait(false);
        }
        return reader._queries;
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
        }
        else
        {
            NdjsonRecord.ParseQuery(line, _layout, code);
        }
        _queries.Add(code);
    }

    public void Header(int bits, ulong count)
    {
        if (bits != _layout.CodeBits)
        {
            throw new RecordException($"the queries are {bits}-bit codes, but collection '{_collection}' holds {_layout.CodeBits}-bit codes");
        }
    }

    public void Code(ReadOnlySpan<ulong> code, long index) => _queries.Add(code.ToArray());
}
