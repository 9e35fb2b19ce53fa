using System.IO.Compression;

namespace HammingDB.Encoders.Data;

/// <summary>
/// The bytes of one dataset file, decompressed when it starts with the gzip magic (1f 8b), read in
/// order. Every failure becomes an <see cref="InvalidDataException"/> that starts with the file's
/// path; offsets in messages count decompressed bytes.
/// </summary>
internal sealed class DatasetSource : IDisposable
{
    private const int BufferBytes = 1 << 20;

    private readonly Stream _stream;

    private DatasetSource(string path, Stream stream, bool compressed, long? length)
    {
        Path = path;
        _stream = stream;
        Compressed = compressed;
        Length = length;
    }

    /// <summary>The file's path, as given.</summary>
    public string Path { get; }

    /// <summary>Whether the file is gzip-compressed.</summary>
    public bool Compressed { get; }

    /// <summary>The length of the data in bytes when known before reading (an uncompressed file); null for gzip.</summary>
    public long? Length { get; }

    /// <summary>Bytes consumed so far (after decompression).</summary>
    public long Position { get; private set; }

    /// <summary>Opens <paramref name="path"/>, detecting gzip by its magic bytes.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static DatasetSource Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        try
        {
            Span<byte> magic = stackalloc byte[2];
            int got = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            file.Position = 0;
            if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
            {
                var gzip = new GZipStream(file, CompressionMode.Decompress, leaveOpen: false);
                return new DatasetSource(path, new BufferedStream(gzip, BufferBytes), compressed: true, length: null);
            }
            return new DatasetSource(path, new BufferedStream(file, BufferBytes), compressed: false, file.Length);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads <paramref name="stream"/> from where it is (standard input, a pipe), detecting gzip by its
    /// magic bytes without seeking; <paramref name="name"/> is used in messages. The stream is left open.
    /// </summary>
    public static DatasetSource Open(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var magic = new byte[2];
        int got = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        long? length = stream.CanSeek ? stream.Length - stream.Position + got : null;
        var whole = new PrefixedStream(magic.AsSpan(0, got).ToArray(), stream);
        if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        {
            var gzip = new GZipStream(whole, CompressionMode.Decompress, leaveOpen: false);
            return new DatasetSource(name, new BufferedStream(gzip, BufferBytes), compressed: true, length: null);
        }
        return new DatasetSource(name, new BufferedStream(whole, BufferBytes), compressed: false, length);
    }

    /// <summary>An error about this file: "path: message".</summary>
    public InvalidDataException Error(string message) => new($"{Path}: {message}");

    /// <summary>Fills as much of <paramref name="destination"/> as the data holds; returns the bytes read (fewer only at the end).</summary>
    public int ReadAtMost(Span<byte> destination)
    {
        int total;
        try
        {
            total = _stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            // The decompressor's own errors (a damaged or truncated gzip stream) name no file.
            throw Error($"the gzip data is damaged after {Position} decompressed bytes: {e.Message}");
        }
        Position += total;
        return total;
    }

    /// <summary>Reads exactly <paramref name="destination"/>.Length bytes, or throws naming <paramref name="what"/> as truncated.</summary>
    public void ReadExactly(Span<byte> destination, string what)
    {
        int got = ReadAtMost(destination);
        if (got < destination.Length)
        {
            throw Error($"truncated: {what} needs {destination.Length} bytes at offset {Position - got}; the file ends after {got}");
        }
    }

    /// <summary>Whether the data is exhausted (consumes one byte if it is not).</summary>
    public bool AtEnd()
    {
        Span<byte> one = stackalloc byte[1];
        return ReadAtMost(one) == 0;
    }

    /// <inheritdoc />
    public void Dispose() => _stream.Dispose();
}

/// <summary>
/// Bytes already read from a stream (the gzip magic), then the rest of it; read-only, forward-only.
/// Disposing it leaves the inner stream open (it belongs to the caller).
/// </summary>
internal sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
{
    private int _prefixAt;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_prefixAt < prefix.Length)
        {
            int n = Math.Min(buffer.Length, prefix.Length - _prefixAt);
            prefix.AsSpan(_prefixAt, n).CopyTo(buffer);
            _prefixAt += n;
            return n;
        }
        return inner.Read(buffer);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
