using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using HammingDB.Cli.Input;
using HammingDB.Cli.Output;
using HammingDB.Encoders;
using HammingDB.Encoders.Data;
using HammingDB.Kernels;

namespace HammingDB.Cli.Commands;

/// <summary>What <c>hdb train</c> was asked to do (null: not given).</summary>
internal sealed record TrainSettings(string Database, string Collection, string Method, int? Bits, string Input, string? InputFormat, string? Labels,
    int? TrainRows, ulong Seed, string? VectorStorage, string? KeyType, bool? Payloads);

/// <summary>
/// <c>hdb train DB --collection C --method lsh|lsh-centered|bq-sign|bq-mean|bq-median|itq|grh --bits N --input FILE
/// [--input-format hdbf|fvecs] [--labels FILE] [--train-rows N] [--seed S] [--vector-storage float32|int8] [--key-type u64|string|guid] [--payloads]</c>.
/// </summary>
internal static class TrainCommand
{
    /// <summary>The methods, as --method names them.</summary>
    public static readonly string[] Methods = ["lsh", "lsh-centered", "bq-sign", "bq-mean", "bq-median", "itq", "grh"];

    private const string Description =
        "Trains an encoder from float vectors on the first --train-rows rows of --input (all by default) and stores it in collection C, " +
        "which it creates (keeping every row's vector, float32 or int8, for rescoring), or, when C exists, keeps vectors of the input's dimension " +
        "and codes of the width, and is empty, attaches it to. Then hdb ingest and hdb query take float vectors for C. Progress goes to stderr; " +
        "prints one JSON line at the end. On any error nothing is created or changed.";

    public static Command Build(CliContext context)
    {
        var database = CommonOptions.Database();
        var collection = CommonOptions.Collection();
        var method = new Option<string>("--method")
        {
            Description = "lsh (random hyperplanes through the origin), lsh-centered (through the sample's mean), bq-sign, bq-mean, bq-median " +
                "(one bit per dimension, by sign or the sample's per-dimension mean or median), itq (PCA and a learned rotation), grh (supervised: needs --labels).",
            Required = true,
        };
        method.AcceptOnlyFromAmong(Methods);
        var bits = new Option<int?>("--bits") { Description = "Code width: a multiple of 8 from 8 to 8192. Binary quantization makes one bit per dimension rounded up to a multiple of 8: omit it, or give exactly that." };
        var input = new Option<string>("--input") { Description = "The training vectors: an .hdbf or .fvecs file (gzip or not), or '-' for standard input.", Required = true };
        var inputFormat = new Option<string?>("--input-format") { Description = "hdbf or fvecs (default: fvecs when the name ends in .fvecs or .fvecs.gz, else hdbf)." };
        inputFormat.AcceptOnlyFromAmong("hdbf", "fvecs");
        var labels = new Option<string?>("--labels") { Description = "A .labels file, one label per row of --input (grh needs it)." };
        var trainRows = new Option<int?>("--train-rows") { Description = "Train on the first N rows only (default: all)." };
        var seed = new Option<ulong>("--seed") { Description = "The seed of the method's random draws (default 0): equal seeds and data give identical encoders.", DefaultValueFactory = _ => 0 };
        var storage = new Option<string?>("--vector-storage") { Description = "How a new collection's segments keep the vectors: float32 (default) or int8." };
        storage.AcceptOnlyFromAmong("float32", "int8");
        var keyType = new Option<string?>("--key-type") { Description = "A new collection's key type: u64 (default), string or guid." };
        keyType.AcceptOnlyFromAmong("u64", "string", "guid");
        var payloads = new Option<bool>("--payloads") { Description = "Every row of a new collection carries a payload (bytes)." };
        var command = new Command("train", Description)
        {
            database, collection, method, bits, input, inputFormat, labels, trainRows, seed, storage, keyType, payloads,
        };
        command.SetAction(parse =>
        {
            var settings = new TrainSettings(
                parse.GetRequiredValue(database),
                parse.GetRequiredValue(collection),
                parse.GetRequiredValue(method),
                parse.GetValue(bits),
                parse.GetRequiredValue(input),
                parse.GetValue(inputFormat),
                parse.GetValue(labels),
                parse.GetValue(trainRows),
                parse.GetValue(seed),
                parse.GetValue(storage),
                parse.GetValue(keyType),
                parse.GetResult(payloads) is null ? null : parse.GetValue(payloads));
            return Run(settings, context);
        });
        return command;
    }

    public static int Run(TrainSettings settings, CliContext context)
    {
        var clock = Stopwatch.StartNew();
        EncoderSpec spec = Spec(settings);
        CommonOptions.Require(!string.IsNullOrWhiteSpace(settings.Collection), "--collection must not be empty.");
        CommonOptions.Require(settings.TrainRows is null or >= 1, $"--train-rows must be at least 1; got {settings.TrainRows}.");
        CommonOptions.Require(spec.Kind != EncoderKind.Grh || settings.Labels is not null,
            "--method grh is supervised: give --labels FILE (a .labels file with one label per row of --input).");

        // An existing database is opened (and locked) first, so that a collection that cannot take the encoder is refused before training.
        string path = settings.Database;
        HammingDatabase? db = Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any() ? DatabaseSession.Open(path) : null;
        try
        {
            CollectionInfo? existing = db?.Collections.FirstOrDefault(c => c.Name == settings.Collection);
            if (existing is not null)
            {
                CheckExisting(db!, existing, settings);
            }
            (FloatVectors vectors, long fileRows) = ReadTrainingRows(settings, context, countAll: settings.Labels is not null);
            int width = spec.Kind == EncoderKind.BinaryQuantization ? (vectors.Dimension + 7) / 8 * 8 : spec.CodeBits;
            CommonOptions.Require(spec.CodeBits == 0 || spec.CodeBits == width,
                $"--bits {spec.CodeBits}: binary quantization of dimension {vectors.Dimension} makes {width}-bit codes (one bit per dimension, rounded up to a multiple of 8); omit --bits or give {width}.");
            if (existing is not null)
            {
                CommonOptions.Require(existing.VectorDimension == vectors.Dimension,
                    $"collection '{existing.Name}' keeps vectors of dimension {existing.VectorDimension}, but {settings.Input} has dimension {vectors.Dimension}.");
                CommonOptions.Require(existing.CodeBits == width,
                    $"collection '{existing.Name}' holds {existing.CodeBits}-bit codes, but the encoder would make {width}-bit codes.");
            }
            int[]? labels = settings.Labels is null ? null : ReadLabels(settings.Labels, settings.Input, fileRows, vectors.Count);
            context.Stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"hdb train: {settings.Method} at {width} bits on {vectors.Count:N0} rows of dimension {vectors.Dimension} from {settings.Input} (seed {settings.Seed})"));
            VectorEncoder encoder;
            try
            {
                encoder = EncoderTraining.Train(spec, new TrainingSet(vectors.Values, vectors.Dimension, labels), new StderrProgress(context.Stderr));
            }
            catch (ArgumentException e)
            {
                throw new InputException($"cannot train {settings.Method} on {settings.Input}: {RecordException.From(e).Message}.");
            }
            double seconds = clock.Elapsed.TotalSeconds;
            db ??= DatabaseSession.Open(path, create: true);
            bool attached = existing is not null;
            CollectionInfo info = existing is null
                ? Create(db, settings, encoder)
                : DatabaseSession.Run(db, existing, new AttachAction(encoder));
            info = DatabaseSession.Find(db, info.Name);
            JsonLine.Write(context.Stdout, json =>
            {
                json.WriteStartObject();
                json.WriteString("trained", db.Path);
                json.WriteString(attached ? "attached" : "created", info.Name);
                json.WriteString("method", settings.Method);
                json.WriteNumber("bits", encoder.CodeBits);
                json.WriteNumber("dimension", encoder.Dimension);
                json.WriteNumber("rows", vectors.Count);
                json.WriteNumber("seed", settings.Seed);
                json.WriteString("key_type", KeyFormats.NameOf(info.KeyType));
                json.WriteBoolean("payloads", info.Payloads);
                json.WriteString("vector_storage", info.VectorStorage == VectorStorage.Int8 ? "int8" : "float32");
                json.WriteNumber("seconds", Math.Round(seconds, 3));
                json.WriteEndObject();
            });
            context.Stdout.Flush();
            return ExitCodes.Ok;
        }
        finally
        {
            db?.Dispose();
        }
    }

    /// <summary>The spec --method and --bits describe; a bad width is refused before any file is read.</summary>
    internal static EncoderSpec Spec(TrainSettings settings)
    {
        bool quantization = settings.Method.StartsWith("bq-", StringComparison.Ordinal);
        int? bits = settings.Bits;
        CommonOptions.Require(bits is not null || quantization,
            $"--method {settings.Method} needs --bits N (a multiple of 8 from {CodeLayout.MinCodeBits} to {CodeLayout.MaxCodeBits}).");
        CommonOptions.Require(bits is null || (bits is >= CodeLayout.MinCodeBits and <= CodeLayout.MaxCodeBits && bits % 8 == 0),
            $"--bits must be a multiple of 8 from {CodeLayout.MinCodeBits} to {CodeLayout.MaxCodeBits}; got {bits}.");
        int width = bits ?? 0;
        return settings.Method switch
        {
            "lsh" => new EncoderSpec(EncoderKind.Lsh, width, settings.Seed),
            "lsh-centered" => new EncoderSpec(EncoderKind.Lsh, width, settings.Seed) { Lsh = new LshOptions { Center = true } },
            "bq-sign" => Quantization(QuantizationThreshold.Sign),
            "bq-mean" => Quantization(QuantizationThreshold.Mean),
            "bq-median" => Quantization(QuantizationThreshold.Median),
            "itq" => new EncoderSpec(EncoderKind.Itq, width, settings.Seed),
            "grh" => new EncoderSpec(EncoderKind.Grh, width, settings.Seed),
            _ => throw new InputException($"--method must be one of {string.Join(", ", Methods)}; got '{settings.Method}'."),
        };

        EncoderSpec Quantization(QuantizationThreshold threshold) =>
            new(EncoderKind.BinaryQuantization, width, settings.Seed) { BinaryQuantization = new BinaryQuantizationOptions { Threshold = threshold } };
    }

    // An existing collection takes a new encoder only when it is empty and keeps vectors, and the options given agree with it.
    private static void CheckExisting(HammingDatabase db, CollectionInfo info, TrainSettings settings)
    {
        long rows = DatabaseSession.Stats(db, info).Rows;
        CommonOptions.Require(rows == 0,
            $"collection '{info.Name}' holds {rows} rows; an encoder is trained only for a new or empty collection (codes of two encoders do not compare). Give another --collection.");
        CommonOptions.Require(info.VectorDimension > 0,
            $"collection '{info.Name}' keeps no vectors (it was made for codes alone); an encoder needs a collection that keeps them. Give another --collection.");
        string keyType = KeyFormats.NameOf(info.KeyType);
        CommonOptions.Require(settings.KeyType is null || settings.KeyType == keyType,
            $"collection '{info.Name}' exists with {keyType} keys; --key-type {settings.KeyType} applies only to a new collection.");
        CommonOptions.Require(settings.Payloads is null || settings.Payloads == info.Payloads,
            $"collection '{info.Name}' exists {(info.Payloads ? "with" : "without")} payloads; --payloads applies only to a new collection.");
        string storage = info.VectorStorage == VectorStorage.Int8 ? "int8" : "float32";
        CommonOptions.Require(settings.VectorStorage is null || settings.VectorStorage == storage,
            $"collection '{info.Name}' exists with {storage} vector storage; --vector-storage {settings.VectorStorage} applies only to a new collection.");
    }

    // The first --train-rows rows (all by default), every value checked finite, and the file's row count: from its length or header, else
    // by reading on (with countAll; the rows past the training rows are checked as they are counted), else -1.
    private static (FloatVectors Vectors, long FileRows) ReadTrainingRows(TrainSettings settings, CliContext context, bool countAll)
    {
        VectorFileFormat? format = settings.InputFormat switch
        {
            "hdbf" => VectorFileFormat.Hdbf,
            "fvecs" => VectorFileFormat.Fvecs,
            _ => null,
        };
        using FloatVectorReader reader = settings.Input == "-"
            ? VectorFile.Call(() => FloatVectorReader.Open(context.Stdin, "stdin", format ?? VectorFileFormat.Hdbf))
            : VectorFile.Call(() => FloatVectorReader.Open(settings.Input, format));
        int dimension = reader.Dimension;
        long limit = Math.Min(settings.TrainRows ?? int.MaxValue, Array.MaxLength / dimension);
        long expected = reader.Count is long count ? Math.Min(count, limit) : Math.Min(limit, Math.Max(1, (1 << 20) / dimension));
        var values = new float[expected * dimension];
        long held = 0;
        while (held < limit)
        {
            if (held == values.Length / dimension)
            {
                Array.Resize(ref values, (int)(Math.Min(limit, Math.Max(held * 2, 1)) * dimension));
            }
            int got = VectorFile.ReadRows(reader, values.AsSpan((int)(held * dimension)));
            if (got == 0)
            {
                break;
            }
            held += got;
        }
        if (held * dimension != values.Length)
        {
            Array.Resize(ref values, (int)(held * dimension));
        }
        long fileRows = held < limit ? held : reader.Count ?? -1;
        if (fileRows < 0 && countAll)
        {
            var block = new float[Math.Max(1, (1 << 20) / dimension) * dimension];
            while (VectorFile.ReadRows(reader, block) > 0)
            {
            }
            fileRows = reader.RowsRead;
        }
        return (new FloatVectors(values, dimension), fileRows);
    }

    // The labels of the training rows: the file must hold one per row of the input.
    private static int[] ReadLabels(string labelsPath, string input, long fileRows, int trainingRows)
    {
        int[] all = VectorFile.Call(() => DatasetFiles.LoadLabels(labelsPath));
        CommonOptions.Require(all.Length == fileRows,
            $"{labelsPath} holds {all.Length} labels, but {input} holds {fileRows} rows; give one label per row.");
        return all.AsSpan(0, trainingRows).ToArray();
    }

    private static CollectionInfo Create(HammingDatabase db, TrainSettings settings, VectorEncoder encoder)
    {
        VectorStorage storage = settings.VectorStorage == "int8" ? VectorStorage.Int8 : VectorStorage.Float32;
        bool payloads = settings.Payloads ?? false;
        string name = settings.Collection;
        _ = settings.KeyType switch
        {
            "string" => VectorCollection.Create<string>(db, name, encoder, storage, payloads).Codes.Name,
            "guid" => VectorCollection.Create<Guid>(db, name, encoder, storage, payloads).Codes.Name,
            _ => VectorCollection.Create<ulong>(db, name, encoder, storage, payloads).Codes.Name,
        };
        return DatabaseSession.Find(db, name);
    }

    private sealed class AttachAction(VectorEncoder encoder) : ICollectionAction<CollectionInfo>
    {
        public CollectionInfo Run<TKey>(HammingCollection<TKey> collection, CollectionInfo info, KeyFormat<TKey> keys)
            where TKey : notnull
        {
            VectorCollection.Attach(collection, encoder);
            return info;
        }
    }

    // Training's progress on stderr: a line when the stage changes, else at most one a second.
    private sealed class StderrProgress(TextWriter stderr) : IProgress<TrainingProgress>
    {
        private string? _stage;
        private long _last = Stopwatch.GetTimestamp();

        public void Report(TrainingProgress value)
        {
            if (value.Stage == _stage && Stopwatch.GetElapsedTime(_last).TotalSeconds < 1)
            {
                return;
            }
            _stage = value.Stage;
            _last = Stopwatch.GetTimestamp();
            string loss = value.Loss is double l ? string.Create(CultureInfo.InvariantCulture, $" (loss {l:G6})") : "";
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"hdb train: {value.Stage} {value.Fraction:P0}{loss}"));
            stderr.Flush();
        }
    }
}
