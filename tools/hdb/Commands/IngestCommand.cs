using System.CommandLine;
using System.Diagnostics;
using HammingDB.Cli.Input;
using HammingDB.Cli.Output;
using HammingDB.Encoders;
using HammingDB.Encoders.Data;

namespace HammingDB.Cli.Commands;

/// <summary>What <c>hdb ingest</c> was asked to do.</summary>
internal sealed record IngestSettings(string Database, string Collection, string? File, InputFormat Format, ulong? KeyOffset, string Progress, int BatchRows, int? SealRows = null);

/// <summary>
/// <c>hdb ingest DB [FILE|-] --format hdbc|hex|ndjson|hdbf|fvecs [--key-offset N] [--progress auto|plain|json|none] [--batch-rows N]</c>.
/// </summary>
internal static class IngestCommand
{
    public const int DefaultBatchRows = 65536;

    private const string Description =
        "Upserts the rows of FILE (or standard input) into a collection, in durable batches. " +
        "hdbc: the bench format; key = --key-offset + row index (u64 keys only). " +
        "hex: one code per line, or KEY<TAB>HEX; without keys, key = --key-offset + line index (u64 only). " +
        "ndjson: {\"key\":K,\"code\":\"HEX\"} per line, plus \"payload\":\"HEX\" for collections with payloads (K: a number for u64 keys, a string for string and guid keys). " +
        "HEX is the code's bytes in storage order, byte 0 first, two digits per byte (as in .hdbc). " +
        "Float vectors, for a collection with an encoder (made by hdb train): hdbf or fvecs files (gzip or not; key = --key-offset + row index, u64 keys only), " +
        "or ndjson lines with \"vector\":[x,...] instead of \"code\"; each vector is encoded by the collection's encoder and stored with its code. " +
        "Bad input exits 2 naming the line (or byte offset) and the problem. A regular FILE is checked whole before anything is written, " +
        "so bad input writes nothing. Standard input and pipes are written batch by batch as they arrive: on bad input the batches before the one " +
        "holding the bad record stay durable (the message says how many rows), and nothing of that batch is written. " +
        "Prints {\"ingested\":N,\"seconds\":S,\"rows_per_s\":R} at the end; ends with a seal so later commands open fast.";

    public static Command Build(CliContext context)
    {
        var database = CommonOptions.Database();
        var file = CommonOptions.InputFile();
        var collection = CommonOptions.Collection();
        var format = CommonOptions.Format("The input format: hdbc, hex, ndjson, or float vectors in hdbf or fvecs.", vectors: true);
        var keyOffset = new Option<ulong?>("--key-offset") { Description = "Rows without a key (hdbc, hdbf, fvecs, hex lines without KEY<TAB>) get key N + their 0-based index (default 0)." };
        var progress = new Option<string>("--progress")
        {
            Description = "auto: a progress bar on stderr when it is a terminal, else plain; plain: lines on stderr; json: {\"durable\":N} on stdout after every durable batch (N: rows of this run durable so far), flushed; none.",
            DefaultValueFactory = _ => "auto",
        };
        progress.AcceptOnlyFromAmong("auto", "plain", "json", "none");
        var batchRows = new Option<int>("--batch-rows") { Description = $"Rows per durable batch (default {DefaultBatchRows}; a batch also stays under 32 MiB).", DefaultValueFactory = _ => DefaultBatchRows };
        var sealRows = new Option<int?>("--seal-rows") { Description = $"Rows a collection's memtable holds before it is sealed into a segment during this run (default {DatabaseOptions.Default.SealRows})." };
        var command = new Command("ingest", Description) { database, file, collection, format, keyOffset, progress, batchRows, sealRows };
        command.SetAction(parse =>
        {
            int rows = parse.GetValue(batchRows);
            CommonOptions.Require(rows >= 1, $"--batch-rows must be at least 1; got {rows}.");
            int? seal = parse.GetValue(sealRows);
            CommonOptions.Require(seal is null or >= 1, $"--seal-rows must be at least 1; got {seal}.");
            var settings = new IngestSettings(
                parse.GetRequiredValue(database),
                parse.GetRequiredValue(collection),
                parse.GetValue(file),
                InputSource.ParseFormat(parse.GetRequiredValue(format)),
                parse.GetValue(keyOffset),
                parse.GetRequiredValue(progress),
                rows,
                seal);
            return CommonOptions.Wait(() => RunAsync(settings, context));
        });
        return command;
    }

    public static async Task<int> RunAsync(IngestSettings settings, CliContext context)
    {
        DatabaseOptions options = settings.SealRows is int seal ? DatabaseOptions.Default with { SealRows = seal } : DatabaseOptions.Default;
        using HammingDatabase db = DatabaseSession.Open(settings.Database, options: options);
        CollectionInfo info = DatabaseSession.Find(db, settings.Collection);
        using InputSource source = InputSource.Open(settings.File, context.Stdin);
        var clock = Stopwatch.StartNew();
        long rows = await IngestProgress.RunAsync(settings.Progress, context, source.Name,
            progress => DatabaseSession.Run(db, info, new Action(db, settings, source, progress))).ConfigureAwait(false);
        db.Flush();
        double seconds = clock.Elapsed.TotalSeconds;
        JsonLine.Write(context.Stdout, json =>
        {
            json.WriteStartObject();
            json.WriteNumber("ingested", rows);
            json.WriteNumber("seconds", Math.Round(seconds, 3));
            json.WriteNumber("rows_per_s", seconds > 0 ? Math.Round(rows / seconds) : 0);
            json.WriteEndObject();
        });
        context.Stdout.Flush();
        return ExitCodes.Ok;
    }

    private sealed class Action(HammingDatabase db, IngestSettings settings, InputSource source, IngestProgress progress) : ICollectionAction<Task<long>>
    {
        public async Task<long> Run<TKey>(HammingCollection<TKey> collection, CollectionInfo info, KeyFormat<TKey> keys)
            where TKey : notnull
        {
            VectorEncoder? encoder = StoredEncoder.Load(db, collection);
            CheckShape(info, keys.Numbered, encoder);
            IngestRun<TKey> run;
            var clock = Stopwatch.StartNew();
            if (source.IsRegularFile)
            {
                // First pass: every row checked as the engine will check it, nothing written.
                run = new IngestRun<TKey>(collection, info, keys, settings, progress, write: false, encoder, StoredEncoder.Missing(db, info));
                try
                {
                    await ReadAsync(run).ConfigureAwait(false);
                }
                catch (InputException e)
                {
                    throw new InputException($"{e.Message} Nothing was written (a file is checked whole before the first write).");
                }
                progress.Checked(run.Rows);
                source.Rewind();
            }
            run = new IngestRun<TKey>(collection, info, keys, settings, progress, write: true, encoder, StoredEncoder.Missing(db, info));
            try
            {
                await ReadAsync(run).ConfigureAwait(false);
            }
            catch (InputException e)
            {
                throw new InputException(
                    $"{e.Message} {run.Rows} rows of this run are durable (the batches before the one holding the bad record); nothing of that batch was written.");
            }
            catch (IOException e)
            {
                throw new IOException($"{e.Message} ({run.Rows} rows of this run are durable.)", e);
            }
            progress.Done(run.Rows, clock.Elapsed.TotalSeconds);
            return run.Rows;
        }

        private async Task ReadAsync<TKey>(IngestRun<TKey> run)
            where TKey : notnull
        {
            if (settings.Format == InputFormat.Hdbc)
            {
                await HdbcStreamReader.ReadAsync(source.Stream, source.Name, run).ConfigureAwait(false);
            }
            else if (InputSource.IsVectorFile(settings.Format))
            {
                using FloatVectorReader reader = VectorFile.Open(source, settings.Format, run.Dimension, run.Collection);
                run.Vectors(reader, source.Name);
            }
            else
            {
                await LineReader.ReadAsync(source.Stream, source.Name, run).ConfigureAwait(false);
            }
            run.Finish();
        }

        // What no row of this input could satisfy: refused before anything is read.
        private void CheckShape(CollectionInfo info, bool numbered, VectorEncoder? encoder)
        {
            string format = InputSource.FormatName(settings.Format);
            bool vectorFile = InputSource.IsVectorFile(settings.Format);
            CommonOptions.Require(!vectorFile || encoder is not null, $"{source.Name}: {format} input holds float vectors, but {StoredEncoder.Missing(db, info)}.");
            CommonOptions.Require(info.VectorDimension == 0 || vectorFile || settings.Format == InputFormat.Ndjson,
                encoder is null
                    ? $"collection '{info.Name}' keeps a vector with every row, but has no encoder; hdb ingest supplies vectors only through an encoder (hdb train)."
                    : $"collection '{info.Name}' keeps a float vector with every row: ingest vectors (--format hdbf or fvecs, or ndjson lines with \"vector\"), not {format} codes.");
            CommonOptions.Require(!info.Payloads || settings.Format == InputFormat.Ndjson,
                $"collection '{info.Name}' keeps a payload with every row; only ndjson input carries payloads, not {format}.");
            CommonOptions.Require(numbered || (settings.Format != InputFormat.Hdbc && !vectorFile),
                $"{source.Name}: {format} input has no keys, so rows are numbered from --key-offset, which needs u64 keys; collection '{info.Name}' is keyed by {KeyFormats.NameOf(info.KeyType)}.");
            CommonOptions.Require(settings.KeyOffset is null || settings.Format != InputFormat.Ndjson,
                "--key-offset numbers rows that have no key (hdbc, hdbf, fvecs, hex lines without KEY<TAB>); every ndjson row has its key.");
        }
    }
}

/// <summary>
/// One pass of <c>hdb ingest</c> over the input: parses each record into a row and adds it to a
/// batch (the engine checks it there), then either writes each full batch (<c>write</c>: durable when
/// Apply returns, then reported) or drops it (the checking pass). Float vectors are encoded by the
/// collection's encoder when written; the checking pass does not encode (an all-zero code stands in):
/// encoding refuses only what the reader and the batch check already, a wrong dimension or a value
/// that is not finite.
/// </summary>
internal sealed class IngestRun<TKey> : ILineHandler, ICodeHandler
    where TKey : notnull
{
    private const long MaxBatchBytes = 32 << 20;

    private readonly HammingCollection<TKey> _collection;
    private readonly CollectionInfo _info;
    private readonly KeyFormat<TKey> _keys;
    private readonly IngestSettings _settings;
    private readonly IngestProgress _progress;
    private readonly bool _write;
    private readonly Kernels.CodeLayout _layout;
    private readonly ulong[] _code;
    private readonly VectorEncoder? _encoder;
    private readonly VectorTarget _vectors;
    private CollectionBatch<TKey> _batch;
    private int _inBatch;
    private long _batchBytes;
    private bool? _keyed;

    public IngestRun(HammingCollection<TKey> collection, CollectionInfo info, KeyFormat<TKey> keys, IngestSettings settings, IngestProgress progress, bool write,
        VectorEncoder? encoder, string noEncoder)
    {
        _encoder = encoder;
        _vectors = encoder is null ? VectorTarget.None(noEncoder) : VectorTarget.Of(encoder.Dimension, info.Name);
        _collection = collection;
        _info = info;
        _keys = keys;
        _settings = settings;
        _progress = progress;
        _write = write;
        _layout = new Kernels.CodeLayout(info.CodeBits);
        _code = new ulong[_layout.WordsPerCode];
        _batch = collection.NewBatch();
    }

    /// <summary>Rows written (durable) or, in the checking pass, checked, in whole batches.</summary>
    public long Rows { get; private set; }

    /// <summary>The dimension of the vectors the collection's encoder takes (0: it has none).</summary>
    public int Dimension => _encoder?.Dimension ?? 0;

    /// <summary>The collection's name.</summary>
    public string Collection => _info.Name;

    /// <summary>Every row of a float-vector file (its dimension checked already): key = --key-offset + row index.</summary>
    public void Vectors(FloatVectorReader reader, string source)
    {
        VectorEncoder encoder = _encoder!;
        int dimension = encoder.Dimension;
        int words = _layout.WordsPerCode;
        int blockRows = Math.Max(1, Math.Min(4096, (1 << 20) / dimension));
        var block = new float[blockRows * dimension];
        long index = 0;
        int rows;
        while ((rows = VectorFile.ReadRows(reader, block)) > 0)
        {
            ReadOnlySpan<float> vectors = block.AsSpan(0, rows * dimension);
            ulong[] codes = _write ? encoder.EncodeMany(vectors, rows) : new ulong[rows * words];
            for (int i = 0; i < rows; i++, index++)
            {
                try
                {
                    Add(Numbered(index), codes.AsSpan(i * words, words), null, vectors.Slice(i * dimension, dimension));
                }
                catch (RecordException e)
                {
                    throw new InputException($"{source}: row {index}: {e.Message}.");
                }
            }
        }
    }

    public void Line(ReadOnlySpan<byte> line, long lineNumber)
    {
        if (_settings.Format == InputFormat.Hex)
        {
            bool keyed = HexRecord.Parse(line, _layout, _code, out ReadOnlySpan<byte> keyText);
            if (_keyed is null)
            {
                if (keyed && _settings.KeyOffset is not null)
                {
                    throw new RecordException("the line has a key (KEY<TAB>HEX), but --key-offset numbers rows that have none");
                }
                if (!keyed && !_keys.Numbered)
                {
                    throw new RecordException(
                        $"the line has no key: give KEY<TAB>HEX lines (only u64 keys can be numbered from --key-offset; collection '{_info.Name}' is keyed by {_keys.Name})");
                }
                _keyed = keyed;
            }
            else if (_keyed != keyed)
            {
                throw new RecordException(keyed
                    ? "the line has a key (KEY<TAB>HEX) but the lines before it have none"
                    : "the line has no key but the lines before it are KEY<TAB>HEX");
            }
            Add(keyed ? _keys.ParseText(keyText) : Numbered(lineNumber - 1), _code, null);
        }
        else
        {
            TKey key = NdjsonRecord.ParseRow(line, _layout, _code, _vectors, _keys, out byte[]? payload, out bool hasVector);
            if (hasVector)
            {
                float[] vector = _vectors.Buffer!;
                if (_write)
                {
                    _encoder!.Encode(vector, _code);
                }
                else
                {
                    Array.Clear(_code);
                }
                Add(key, _code, payload, vector);
            }
            else
            {
                if (_info.VectorDimension > 0)
                {
                    throw new RecordException(_encoder is null
                        ? $"collection '{_info.Name}' keeps a float vector with every row, and a \"code\" row has none"
                        : $"collection '{_info.Name}' keeps a float vector with every row: give \"vector\":[...] (encoded by its encoder), not \"code\"");
                }
                Add(key, _code, payload);
            }
        }
    }

    public void Header(int bits, ulong count)
    {
        if (bits != _info.CodeBits)
        {
            throw new RecordException($"the codes are {bits} bits, but collection '{_info.Name}' holds {_info.CodeBits}-bit codes");
        }
    }

    public void Code(ReadOnlySpan<ulong> code, long index) => Add(Numbered(index), code, null);

    /// <summary>Writes (or, checking, drops) the last, partial batch.</summary>
    public void Finish() => Commit();

    private TKey Numbered(long index)
    {
        ulong offset = _settings.KeyOffset ?? 0;
        if ((ulong)index > ulong.MaxValue - offset)
        {
            throw new RecordException($"--key-offset {offset} + row index {index} is past the largest u64 key");
        }
        return _keys.FromNumber(offset + (ulong)index);
    }

    private void Add(TKey key, ReadOnlySpan<ulong> code, byte[]? payload, ReadOnlySpan<float> vector = default)
    {
        long bytes = 16 + _keys.EncodedBytes(key) + _info.CodeBits / 8 + (payload?.Length ?? 0) + 4L * vector.Length;
        if (_inBatch > 0 && _batchBytes + bytes > MaxBatchBytes)
        {
            Commit();
        }
        try
        {
            _batch.Upsert(key, code, payload, vector);
        }
        catch (ArgumentException e)
        {
            throw RecordException.From(e);
        }
        _inBatch++;
        _batchBytes += bytes;
        if (_inBatch >= _settings.BatchRows)
        {
            Commit();
        }
    }

    private void Commit()
    {
        if (_inBatch == 0)
        {
            return;
        }
        if (_write)
        {
            _collection.Apply(_batch);
            Rows += _inBatch;
            _progress.Durable(Rows);
        }
        else
        {
            Rows += _inBatch;
            _progress.Checking(Rows);
        }
        _batch = _collection.NewBatch();
        _inBatch = 0;
        _batchBytes = 0;
    }
}
