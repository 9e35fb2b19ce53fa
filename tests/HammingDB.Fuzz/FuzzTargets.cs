using System.Collections.Frozen;
using HammingDB.Cli;
using HammingDB.Cli.Input;
using HammingDB.Encoders;
using HammingDB.Encoders.Data;
using HammingDB.Index.Mih;
using HammingDB.Kernels;
using HammingDB.Storage;
using HammingDB.Storage.Attachments;
using HammingDB.Storage.Keys;
using HammingDB.Storage.Log;
using HammingDB.Storage.Manifest;
using HammingDB.Storage.Segments;
using HammingDB.Writing;

namespace HammingDB.Fuzz;

/// <summary>
/// Every parser of untrusted bytes behind one entry, <see cref="Run"/>: the AFL++ harness (SharpFuzz
/// persistent mode) and the test suite's replay of fuzz/corpus and fuzz/regressions both call it. A
/// target feeds the bytes to its parser the way HammingDB or hdb reads such a file (through
/// <see cref="MemoryFileSystem"/> where the parser reads through the seam, else a stream or a file) and
/// uses what comes out. Allowed outcomes: success, or the parser's documented error (the storage
/// errors, the CLI's input errors, <see cref="InvalidDataException"/> of the encoder and dataset
/// readers); any other exception escapes, and so does a call that allocates more than
/// <see cref="MaxAllocatedBytes"/> for an input under <see cref="SmallInputBytes"/> (a length field trusted).
/// </summary>
public static class FuzzTargets
{
    /// <summary>The most one target call may allocate (on its thread) for a small input.</summary>
    public const long MaxAllocatedBytes = 64L << 20;

    /// <summary>Inputs under this size are held to <see cref="MaxAllocatedBytes"/>.</summary>
    public const int SmallInputBytes = 1 << 20;

    private const string Dir = "/db";

    private sealed record Target(Action<byte[]> Parse, Func<Exception, bool> Allowed);

    private static bool StorageError(Exception e) => e is StorageException;

    private static bool DataError(Exception e) => e is InvalidDataException;

    private static bool CliError(Exception e) => e is InputException or RecordException;

    private static readonly FrozenDictionary<string, Target> Targets = new Dictionary<string, Target>
    {
        ["segment"] = new(Segment, StorageError),
        ["manifest"] = new(Manifest, StorageError),
        ["log"] = new(Log, StorageError),
        ["deletions"] = new(Deletions, StorageError),
        ["attachment"] = new(Attachment, StorageError),
        ["encoder"] = new(Encoder, DataError),
        ["keyindex"] = new(KeyIndexTarget.Run, StorageError),
        ["hdbc"] = new(Hdbc, CliError),
        ["hex"] = new(HexLines, CliError),
        ["ndjson"] = new(Ndjson, CliError),
        ["hdbf"] = new(bytes => FloatVectors(bytes, VectorFileFormat.Hdbf, InputFormat.Hdbf), e => DataError(e) || CliError(e)),
        ["fvecs"] = new(bytes => FloatVectors(bytes, VectorFileFormat.Fvecs, InputFormat.Fvecs), e => DataError(e) || CliError(e)),
        ["ivecs"] = new(bytes => WithFile("in.ivecs", bytes, path => DatasetFiles.LoadIvecs(path)), DataError),
        ["labels"] = new(bytes => WithFile("in.labels", bytes, path => DatasetFiles.LoadLabels(path)), DataError),
        ["gt"] = new(bytes => WithFile("in.gt", bytes, path => DatasetFiles.LoadGroundTruth(path)), DataError),
    }.ToFrozenDictionary();

    /// <summary>The target names, in a fixed order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Targets.Keys.Order(StringComparer.Ordinal)];

    /// <summary>
    /// Feeds <paramref name="bytes"/> to target <paramref name="name"/>; when the format has checksums,
    /// feeds it again with them recomputed (<see cref="Reseal"/>), so that mutations reach the checks
    /// behind them. Returns normally on an allowed outcome.
    /// </summary>
    /// <exception cref="ArgumentException">No such target.</exception>
    /// <exception cref="FuzzFailureException">The call allocated more than allowed.</exception>
    public static void Run(string name, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (!Targets.TryGetValue(name, out Target? target))
        {
            throw new ArgumentException($"no fuzz target '{name}'; the targets are {string.Join(", ", Names)}", nameof(name));
        }
        Once(name, target, bytes);
        if (Reseal.For(name, bytes) is { } resealed && !resealed.AsSpan().SequenceEqual(bytes))
        {
            Once(name, target, resealed);
        }
    }

    private static void Once(string name, Target target, byte[] bytes)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            target.Parse(bytes);
        }
        catch (Exception e) when (target.Allowed(e))
        {
            // The parser's documented error: an allowed outcome.
        }
        catch (OutOfMemoryException e)
        {
            // An ordinary exception, so that SharpFuzz reports it as a crash instead of the process dying.
            throw new FuzzFailureException($"{name}: out of memory for an input of {bytes.Length} bytes", e);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (bytes.Length < SmallInputBytes && allocated > MaxAllocatedBytes)
        {
            throw new FuzzFailureException($"{name}: one call allocated {allocated} bytes for an input of {bytes.Length} bytes (at most {MaxAllocatedBytes})");
        }
    }

    internal static MemoryFileSystem FileSystemWith(string name, byte[] bytes)
    {
        var fs = new MemoryFileSystem();
        fs.CreateDirectory(Dir);
        string path = Path.Combine(Dir, name);
        using (IStorageFile file = fs.Create(path))
        {
            file.Write(0, bytes);
            file.Sync();
        }
        fs.SyncDirectory(Dir);
        return fs;
    }

    // Open and verify as the engine and check do: every checksum, block, key, payload and vector, then the MIH tables.
    private static void Segment(byte[] bytes)
    {
        string name = FileNames.Segment(1);
        MemoryFileSystem fs = FileSystemWith(name, bytes);
        using SegmentReader reader = SegmentReader.Open(fs, Path.Combine(Dir, name));
        var problems = new List<CorruptionException>();
        reader.Verify(problems.Add, checksums: true, keyProblem: key => key.Length > 64 ? "is long" : null);
        if (problems.Count > 0)
        {
            return; // what check reports; reads below would throw the same
        }
        int rows = 0;
        foreach (byte[] key in reader.AllKeys())
        {
            if (rows < 64 && !reader.KeyEquals(rows, key))
            {
                throw new FuzzFailureException("segment: KeyEquals disagrees with AllKeys");
            }
            rows++;
        }
        if (reader.HasPayloads)
        {
            foreach (byte[] payload in reader.AllPayloads())
            {
                GC.KeepAlive(payload);
            }
        }
        if (reader.VectorDimension > 0)
        {
            var vector = new float[reader.VectorDimension];
            for (int row = 0; row < Math.Min(reader.Rows, 64); row++)
            {
                reader.ReadVector(row, vector);
            }
        }
        if (reader.Rows > 0)
        {
            reader.GetKeys([0, reader.Rows - 1]);
        }
        try
        {
            SegmentTables.Open(reader);
        }
        catch (ArgumentException e) when (e.GetType() == typeof(ArgumentException))
        {
            // Documented: the stored tables do not form a layout; the engine scans the segment instead.
        }
    }

    private static void Manifest(byte[] bytes)
    {
        MemoryFileSystem fs = FileSystemWith(FileNames.Manifest, bytes);
        ManifestState? state = ManifestStore.Read(fs, Dir);
        if (state is not null)
        {
            // A manifest that parses must encode back to itself (no field lost or made up).
            byte[] again = ManifestStore.Encode(state);
            if (!ManifestStore.Encode(ManifestStore.Decode(again, "again")).AsSpan().SequenceEqual(again))
            {
                throw new FuzzFailureException("manifest: decode(encode(state)) is not state");
            }
            // Then open a database on it, as the engine does (the files it names are absent: a storage error when it gets to them).
            using HammingDatabase db = HammingDatabase.Open(fs, Dir, OpenOptions, new MemoryKeyIndexStore());
            foreach (CollectionInfo info in db.Collections)
            {
                GC.KeepAlive(info);
            }
        }
    }

    private static DatabaseOptions OpenOptions => OptionsHolder.Value;

    private static class OptionsHolder
    {
        public static readonly DatabaseOptions Value = new() { BackgroundCompaction = false, SealOnClose = false };
    }

    // Recovery's reading of a log: the valid prefix, the search for a whole record past damage, every batch decoded.
    private static void Log(byte[] bytes)
    {
        string name = FileNames.Log(1);
        MemoryFileSystem fs = FileSystemWith(name, bytes);
        using IStorageFile file = fs.Open(Path.Combine(Dir, name), writable: false);
        LogContents contents = LogReader.Read(file);
        if (contents.TailProblem is not null)
        {
            LogReader.FindRecordAfter(file, contents.ValidLength, WriteBatch.LooksLikeStart);
        }
        foreach (LogRecord record in contents.Records)
        {
            uint collection = WriteBatch.PeekCollection(record.Payload.Span, file.Path, record.Offset);
            CollectionShape shape = Shapes[(int)(collection % (uint)Shapes.Length)];
            WriteBatch.Decode(record.Payload.Span, shape, file.Path, record.Offset);
        }
    }

    // Made on first use: instrumented code (these constructors) must not run before SharpFuzz's Fuzzer.Run.
    private static CollectionShape[] Shapes => ShapesHolder.Value;

    private static class ShapesHolder
    {
        public static readonly CollectionShape[] Value =
        [
            new(new CodeLayout(64), HasPayloads: false, VectorDimension: 0),
            new(new CodeLayout(64), HasPayloads: true, VectorDimension: 0),
            new(new CodeLayout(256), HasPayloads: true, VectorDimension: 4),
            new(new CodeLayout(72), HasPayloads: false, VectorDimension: 3),
        ];
    }

    // The bitmap of a segment whose row count the file's own header states (any count a segment may have).
    private static void Deletions(byte[] bytes)
    {
        ulong stated = bytes.Length >= 24 ? BitConverter.ToUInt64(bytes, 16) : 0;
        int rows = (int)Math.Min(stated, int.MaxValue);
        MemoryFileSystem fs = FileSystemWith(FileNames.Deletions(1, 1), bytes);
        DeletionBitmap bitmap = DeletionBitmap.Read(fs, Dir, 1, 1, rows);
        for (int row = 0; row < Math.Min(rows, 4096); row++)
        {
            bitmap.IsDeleted(row);
        }
    }

    private static void Attachment(byte[] bytes)
    {
        uint collection = bytes.Length >= 16 ? BitConverter.ToUInt32(bytes, 12) : 1;
        MemoryFileSystem fs = FileSystemWith(FileNames.Attachment(1), bytes);
        AttachmentFile.Read(fs, Dir, 1, collection, "encoder");
    }

    // A deserialized encoder must encode: one vector of zeros and one of ones.
    private static void Encoder(byte[] bytes)
    {
        VectorEncoder encoder = VectorEncoder.Deserialize(bytes);
        var code = new ulong[encoder.Layout.WordsPerCode];
        var vector = new float[encoder.Dimension];
        encoder.Encode(vector, code);
        Array.Fill(vector, 1f);
        encoder.Encode(vector, code);
    }

    private static readonly CodeLayout[] CliLayouts = [new(64), new(256)];

    private static VectorEncoder QueryEncoder => EncoderHolder.Value;

    private static class EncoderHolder
    {
        public static readonly VectorEncoder Value =
            EncoderTraining.Train(new EncoderSpec(EncoderKind.Lsh, 64, Seed: 7), new TrainingSet(ReadOnlyMemory<float>.Empty, 4));
    }

    // hdb's streamed .hdbc reader (ingest, query) and its whole-file reader (bench).
    private static void Hdbc(byte[] bytes)
    {
        foreach (CodeLayout layout in CliLayouts)
        {
            Queries(bytes, InputFormat.Hdbc, layout, encoder: null);
        }
        WithFile("in.hdbc", bytes, path => HdbcFile.Read(path, maxCodes: 1 << 16));
    }

    private static void HexLines(byte[] bytes)
    {
        foreach (CodeLayout layout in CliLayouts)
        {
            Queries(bytes, InputFormat.Hex, layout, encoder: null);
            Lines(bytes, new RowLines(layout, hex: true));
        }
    }

    private static void Ndjson(byte[] bytes)
    {
        foreach (CodeLayout layout in CliLayouts)
        {
            Queries(bytes, InputFormat.Ndjson, layout, encoder: null);
            Lines(bytes, new RowLines(layout, hex: false));
        }
        Queries(bytes, InputFormat.Ndjson, CliLayouts[0], QueryEncoder);
    }

    // The dataset reader (train, eval) and hdb's query reader of the same file.
    private static void FloatVectors(byte[] bytes, VectorFileFormat format, InputFormat input)
    {
        using (var stream = new MemoryStream(bytes, writable: false))
        using (FloatVectorReader reader = FloatVectorReader.Open(stream, "in", format))
        {
            reader.ReadAll();
        }
        using (var stream = new MemoryStream(bytes, writable: false))
        using (FloatVectorReader reader = FloatVectorReader.Open(stream, "in", format))
        {
            var block = new float[Math.Max(reader.Dimension, 1024)];
            while (reader.ReadRows(block) > 0)
            {
            }
        }
        Queries(bytes, input, CliLayouts[0], QueryEncoder);
    }

    private static void Queries(byte[] bytes, InputFormat format, CodeLayout layout, VectorEncoder? encoder)
    {
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            using InputSource source = InputSource.Open(null, stream);
            QueryReader.ReadAsync(source, format, layout, "c", encoder, "no encoder").GetAwaiter().GetResult();
        }
        catch (InputException)
        {
            // Allowed; the other readers of the same bytes run too.
        }
    }

    private static void Lines(byte[] bytes, ILineHandler handler)
    {
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            LineReader.ReadAsync(stream, "in", handler).GetAwaiter().GetResult();
        }
        catch (InputException)
        {
            // Allowed.
        }
    }

    // What ingest does with each line: the row parsers for every key type (a bad line is refused, the next still parsed).
    private sealed class RowLines(CodeLayout layout, bool hex) : ILineHandler
    {
        private readonly ulong[] _code = new ulong[layout.WordsPerCode];
        private readonly VectorTarget _vectors = VectorTarget.Of(4, "c");

        public void Line(ReadOnlySpan<byte> line, long lineNumber)
        {
            if (hex)
            {
                try
                {
                    if (HexRecord.Parse(line, layout, _code, out ReadOnlySpan<byte> keyText))
                    {
                        Key(UInt64KeyFormat.Instance, keyText);
                        Key(StringKeyFormat.Instance, keyText);
                        Key(GuidKeyFormat.Instance, keyText);
                    }
                }
                catch (RecordException)
                {
                }
                return;
            }
            Row(line, UInt64KeyFormat.Instance);
            Row(line, StringKeyFormat.Instance);
            Row(line, GuidKeyFormat.Instance);
        }

        private static void Key<TKey>(KeyFormat<TKey> keys, ReadOnlySpan<byte> text)
            where TKey : notnull
        {
            try
            {
                keys.Format(keys.ParseText(text));
            }
            catch (RecordException)
            {
            }
        }

        private void Row<TKey>(ReadOnlySpan<byte> line, KeyFormat<TKey> keys)
            where TKey : notnull
        {
            try
            {
                keys.Format(NdjsonRecord.ParseRow(line, layout, _code, _vectors, keys, out _, out _));
            }
            catch (RecordException)
            {
            }
        }
    }

    private static readonly string TempDirectory = Directory.CreateDirectory(
        Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), "hammingdb-fuzz")).FullName;

    // The dataset readers and hdb's whole-file .hdbc reader take paths: the bytes go to a file (in memory where /dev/shm
    // exists), removed after the call.
    private static void WithFile<T>(string name, byte[] bytes, Func<string, T> read)
    {
        string path = Path.Combine(TempDirectory, $"{Environment.ProcessId}-{Environment.CurrentManagedThreadId}-{name}");
        File.WriteAllBytes(path, bytes);
        try
        {
            read(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>A target broke a rule of the harness (not an exception of the parser): too much allocated, or an inconsistent result.</summary>
public sealed class FuzzFailureException : Exception
{
    /// <summary>A broken rule, said in <paramref name="message"/>.</summary>
    public FuzzFailureException(string message)
        : base(message)
    {
    }

    /// <summary>A broken rule, said in <paramref name="message"/>, caused by <paramref name="inner"/>.</summary>
    public FuzzFailureException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
