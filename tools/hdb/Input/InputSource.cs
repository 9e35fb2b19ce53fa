namespace HammingDB.Cli.Input;

/// <summary>The formats hdb reads codes in.</summary>
internal enum InputFormat
{
    /// <summary>The binary bench format (<see cref="HdbcFile"/>).</summary>
    Hdbc,

    /// <summary>One code per line in hex, optionally <c>KEY&lt;TAB&gt;HEX</c>.</summary>
    Hex,

    /// <summary>One JSON object per line.</summary>
    Ndjson,

    /// <summary>Float vectors in HammingDB's .hdbf (header, then row-major float32), gzip or not.</summary>
    Hdbf,

    /// <summary>Float vectors in the classic .fvecs (per row: int32 dimension, then float32 values), gzip or not.</summary>
    Fvecs,
}

/// <summary>An input named on the command line: a file, or "-" for standard input.</summary>
internal sealed class InputSource : IDisposable
{
    private readonly Func<Stream>? _reopen;

    private InputSource(string name, Stream stream, bool isRegularFile, Func<Stream>? reopen)
    {
        Name = name;
        Stream = stream;
        IsRegularFile = isRegularFile;
        _reopen = reopen;
    }

    /// <summary>The name used in messages: the path, or "stdin".</summary>
    public string Name { get; }

    /// <summary>The stream to read.</summary>
    public Stream Stream { get; private set; }

    /// <summary>
    /// Whether the input is a regular file (it can be read twice: once to check, once to write).
    /// Standard input and pipes are read once.
    /// </summary>
    public bool IsRegularFile { get; }

    public static string FormatName(InputFormat format) => format.ToString().ToLowerInvariant();

    public static InputFormat ParseFormat(string name) => name switch
    {
        "hdbc" => InputFormat.Hdbc,
        "hex" => InputFormat.Hex,
        "ndjson" => InputFormat.Ndjson,
        "hdbf" => InputFormat.Hdbf,
        "fvecs" => InputFormat.Fvecs,
        _ => throw new InputException($"--format must be hdbc, hex, ndjson, hdbf or fvecs; got '{name}'."),
    };

    /// <summary>Whether <paramref name="format"/> is a file of float vectors (.hdbf or .fvecs).</summary>
    public static bool IsVectorFile(InputFormat format) => format is InputFormat.Hdbf or InputFormat.Fvecs;

    /// <summary>Opens <paramref name="path"/> ("-" or null: <paramref name="stdin"/>).</summary>
    public static InputSource Open(string? path, Stream stdin)
    {
        if (path is null or "-")
        {
            return new InputSource("stdin", stdin, isRegularFile: false, reopen: null);
        }
        Stream Open() => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        FileStream stream;
        try
        {
            stream = (FileStream)Open();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InputException($"{path}: no such file.");
        }
        // A FIFO or character device cannot seek: it is read once, like stdin.
        bool regular = stream.CanSeek;
        return new InputSource(path, stream, regular, regular ? Open : null);
    }

    /// <summary>Starts again from the first byte (regular files only).</summary>
    public void Rewind()
    {
        if (_reopen is null)
        {
            throw new InvalidOperationException($"{Name} can be read only once.");
        }
        Stream.Dispose();
        Stream = _reopen();
    }

    public void Dispose()
    {
        if (_reopen is not null)
        {
            Stream.Dispose();
        }
    }
}
