using System.Globalization;
using System.Text;
using System.Text.Json;
using HammingDB.Encoders;
using HammingDB.Encoders.Data;
using HammingDB.Tests.Encoders;
using Xunit.Abstractions;

namespace HammingDB.Tests.Cli;

/// <summary>
/// hdb train, and hdb ingest and hdb query with float vectors: results equal the API's on the same
/// data (an encoder trained in the test with the same spec and seed, rows upserted through
/// <see cref="VectorCollection{TKey}"/>); every bad input exits 2 naming the problem and changes nothing.
/// </summary>
public sealed class VectorCliTests(ITestOutputHelper output) : CliHarness(output)
{
    private const int Dimension = 16;
    private const int DataRows = 300;
    private const int QueryRows = 12;

    public static TheoryData<string, int, EncoderSpec> Methods() => new()
    {
        { "lsh", 64, new EncoderSpec(EncoderKind.Lsh, 64, 7) },
        { "lsh-centered", 32, new EncoderSpec(EncoderKind.Lsh, 32, 7) { Lsh = new LshOptions { Center = true } } },
        { "bq-median", 0, new EncoderSpec(EncoderKind.BinaryQuantization, 0, 7) { BinaryQuantization = new BinaryQuantizationOptions { Threshold = QuantizationThreshold.Median } } },
        { "itq", 16, new EncoderSpec(EncoderKind.Itq, 16, 7) },
        { "grh", 32, new EncoderSpec(EncoderKind.Grh, 32, 7) },
    };

    [Theory]
    [MemberData(nameof(Methods))]
    public void Train_ingest_and_query_hdbf_give_the_apis_results(string method, int bits, EncoderSpec spec)
    {
        int seed = 1000 + method.Length;
        Output.WriteLine($"seed {seed}");
        var (data, labels, queries) = Data(seed);
        string db = PathOf("db"), input = WriteVectors("data.hdbf", data), queryFile = WriteVectors("queries.hdbf", queries);
        var train = new List<string> { "train", db, "--collection", "c", "--method", method, "--input", input, "--seed", "7" };
        if (bits > 0)
        {
            train.AddRange(["--bits", Str(bits)]);
        }
        if (method == "grh")
        {
            string labelFile = PathOf("data.labels");
            DatasetFiles.WriteLabels(labelFile, labels);
            train.AddRange(["--labels", labelFile]);
        }
        HdbResult trained = Ok([.. train]);
        JsonElement summary = JsonLines(trained.Stdout)[0];
        Assert.Equal("c", summary.GetProperty("created").GetString());
        Assert.Equal(method, summary.GetProperty("method").GetString());
        Assert.Equal(Dimension, summary.GetProperty("dimension").GetInt32());
        Assert.Equal(DataRows, summary.GetProperty("rows").GetInt32());
        Assert.Contains("hdb train: ", trained.Stderr, StringComparison.Ordinal);
        JsonElement ingested = JsonLines(Ok("ingest", db, input, "--collection", "c", "--format", "hdbf", "--batch-rows", "100", "--progress", "none").Stdout)[0];
        Assert.Equal(DataRows, ingested.GetProperty("ingested").GetInt64());

        // The API on the same data: an encoder trained with the same spec, the rows keyed by index.
        using HammingDatabase apiDb = HammingDatabase.Open(PathOf("api"));
        VectorEncoder encoder = EncoderTraining.Train(spec, new TrainingSet(data.Values, Dimension, method == "grh" ? labels : null));
        Assert.Equal(summary.GetProperty("bits").GetInt32(), encoder.CodeBits);
        VectorCollection<ulong> api = VectorCollection.Create<ulong>(apiDb, "c", encoder);
        api.UpsertMany([.. Enumerable.Range(0, DataRows).Select(i => (ulong)i)], data.Values);

        List<JsonElement> knn = JsonLines(Ok("query", db, queryFile, "--collection", "c", "--format", "hdbf", "--k", "10").Stdout);
        List<JsonElement> rescored = JsonLines(Ok("query", db, queryFile, "--collection", "c", "--format", "hdbf", "--k", "5", "--rescore", "4", "--metric", "cosine").Stdout);
        List<JsonElement> radius = JsonLines(Ok("query", db, queryFile, "--collection", "c", "--format", "hdbf", "--radius", Str(encoder.CodeBits / 4)).Stdout);
        Assert.Equal(QueryRows, knn.Count);
        for (int q = 0; q < QueryRows; q++)
        {
            Assert.Equal(Expected(api.Knn(queries.Row(q), 10)), Results(knn[q]));
            Assert.Equal(Expected(api.Radius(queries.Row(q), encoder.CodeBits / 4)), Results(radius[q]));
            IReadOnlyList<RescoredResult<ulong>> want = api.KnnRescored(queries.Row(q), 5, 4, VectorMetric.Cosine);
            Assert.Equal(want.Select(r => (r.Key, r.HammingDistance)), Results(rescored[q]));
            Assert.Equal(want.Select(r => r.VectorDistance), rescored[q].GetProperty("results").EnumerateArray().Select(r => r.GetProperty("vector_distance").GetDouble()));
            Assert.False(knn[q].GetProperty("results")[0].TryGetProperty("vector_distance", out _));
        }
    }

    [Fact]
    public void Ndjson_vectors_with_string_keys_and_payloads_go_in_and_come_out()
    {
        const int seed = 2001;
        Output.WriteLine($"seed {seed}");
        var (data, _, queries) = Data(seed);
        string db = PathOf("db");
        Ok("train", db, "--collection", "v", "--method", "lsh", "--bits", "64", "--input", WriteVectors("train.hdbf", data), "--train-rows", "50",
            "--key-type", "string", "--payloads");
        var lines = new StringBuilder();
        for (int i = 0; i < DataRows; i++)
        {
            lines.Append(CultureInfo.InvariantCulture, $"{{\"key\":\"k{i}\",\"vector\":{Json(data.Row(i))},\"payload\":\"{i % 256:x2}\"}}\n");
        }
        string rows = PathOf("rows.ndjson");
        File.WriteAllText(rows, lines.ToString());
        Ok("ingest", db, rows, "--collection", "v", "--format", "ndjson", "--progress", "none");
        Assert.Equal(DataRows, Rows(db, "v"));
        // A stored vector's own row is among its nearest at distance 0; the API on the same database agrees.
        string queryLines = string.Concat(Enumerable.Range(0, QueryRows).Select(q => $"{{\"id\":{q},\"vector\":{Json(queries.Row(q))}}}\n"))
            + $"{{\"vector\":{Json(data.Row(5))}}}\n";
        List<JsonElement> found = JsonLines(Ok(Utf8(queryLines), "query", db, "-", "--collection", "v", "--format", "ndjson", "--k", "3", "--rescore", "2").Stdout);
        Assert.Equal(QueryRows + 1, found.Count);
        JsonElement self = found[QueryRows].GetProperty("results")[0];
        Assert.Equal("k5", self.GetProperty("key").GetString());
        Assert.Equal(0, self.GetProperty("distance").GetInt32());
        Assert.Equal(0.0, self.GetProperty("vector_distance").GetDouble());
        using HammingDatabase opened = HammingDatabase.Open(db);
        VectorCollection<string> api = VectorCollection.Open<string>(opened, "v");
        for (int q = 0; q < QueryRows; q++)
        {
            Assert.Equal(api.KnnRescored(queries.Row(q), 3, 2).Select(r => r.Key),
                found[q].GetProperty("results").EnumerateArray().Select(r => r.GetProperty("key").GetString()));
        }
        Assert.True(api.Codes.TryGet("k5", out StoredRow<string>? row));
        Assert.Equal([5], row!.Payload);
        Assert.Equal(data.Row(5).ToArray(), row.Vector);
    }

    [Fact]
    public void Fvecs_gzip_and_stdin_inputs_give_the_same_rows_as_hdbf()
    {
        const int seed = 2002;
        Output.WriteLine($"seed {seed}");
        var (data, _, queries) = Data(seed);
        string db = PathOf("db"), hdbf = WriteVectors("data.hdbf", data);
        string fvecs = PathOf("data.fvecs"), gz = PathOf("data.hdbf.gz"), queryFvecs = PathOf("queries.fvecs");
        DatasetFiles.WriteVectors(fvecs, data, VectorFileFormat.Fvecs);
        DatasetFiles.WriteVectors(gz, data, VectorFileFormat.Hdbf, compress: true);
        DatasetFiles.WriteVectors(queryFvecs, queries, VectorFileFormat.Fvecs);
        foreach (string c in new[] { "a", "b", "s" })
        {
            Ok("train", db, "--collection", c, "--method", "itq", "--bits", "16", "--input", fvecs, "--seed", "3");
        }
        Ok("ingest", db, hdbf, "--collection", "a", "--format", "hdbf", "--progress", "none", "--key-offset", "10");
        Ok("ingest", db, gz, "--collection", "b", "--format", "hdbf", "--progress", "none", "--key-offset", "10");
        Ok(File.ReadAllBytes(fvecs), "ingest", db, "-", "--collection", "s", "--format", "fvecs", "--progress", "none", "--key-offset", "10", "--batch-rows", "64");
        string a = Ok("query", db, queryFvecs, "--collection", "a", "--format", "fvecs", "--k", "7", "--rescore", "3").Stdout;
        Assert.Equal(a, Ok("query", db, queryFvecs, "--collection", "b", "--format", "fvecs", "--k", "7", "--rescore", "3").Stdout);
        Assert.Equal(a, Ok(File.ReadAllBytes(queryFvecs), "query", db, "-", "--collection", "s", "--format", "fvecs", "--k", "7", "--rescore", "3").Stdout);
        Assert.Equal(Ok("export", db, "--collection", "a", "--format", "ndjson").Stdout, Ok("export", db, "--collection", "s", "--format", "ndjson").Stdout);
        Assert.StartsWith("{\"key\":10,", Ok("export", db, "--collection", "a", "--format", "ndjson").Stdout, StringComparison.Ordinal); // keys from --key-offset
    }

    [Fact]
    public void Int8_storage_rescores_as_the_api_does_and_csv_carries_vector_distance()
    {
        const int seed = 2003;
        Output.WriteLine($"seed {seed}");
        var (data, _, queries) = Data(seed);
        string db = PathOf("db"), queryFile = WriteVectors("queries.hdbf", queries);
        JsonElement summary = JsonLines(Ok("train", db, "--collection", "q", "--method", "bq-sign", "--input", WriteVectors("data.hdbf", data),
            "--vector-storage", "int8").Stdout)[0];
        Assert.Equal("int8", summary.GetProperty("vector_storage").GetString());
        Assert.Equal(Dimension, summary.GetProperty("bits").GetInt32());
        Ok("ingest", db, PathOf("data.hdbf"), "--collection", "q", "--format", "hdbf", "--progress", "none");
        List<JsonElement> found = JsonLines(Ok("query", db, queryFile, "--collection", "q", "--format", "hdbf", "--k", "4", "--rescore", "5", "--metric", "l2").Stdout);
        string csv = Ok("query", db, queryFile, "--collection", "q", "--format", "hdbf", "--k", "4", "--rescore", "5", "--output", "csv").Stdout;
        Assert.StartsWith("query,key,distance,vector_distance\n", csv, StringComparison.Ordinal);
        using HammingDatabase opened = HammingDatabase.Open(db);
        VectorCollection<ulong> api = VectorCollection.Open<ulong>(opened, "q");
        Assert.True(api.Codes.GetStats().Segments > 0, "ingest seals: the int8 rows are in segments");
        for (int q = 0; q < QueryRows; q++)
        {
            IReadOnlyList<RescoredResult<ulong>> want = api.KnnRescored(queries.Row(q), 4, 5, VectorMetric.L2);
            Assert.Equal(want.Select(r => (r.Key, r.HammingDistance)), Results(found[q]));
            Assert.Equal(want.Select(r => r.VectorDistance), found[q].GetProperty("results").EnumerateArray().Select(r => r.GetProperty("vector_distance").GetDouble()));
        }
    }

    [Fact]
    public void An_empty_collection_that_keeps_vectors_gets_a_new_encoder()
    {
        var (data, _, _) = Data(2004);
        string db = PathOf("db"), input = WriteVectors("data.hdbf", data);
        DatasetFiles.WriteLabels(PathOf("short.labels"), new int[DataRows - 1]);
        Ok("train", db, "--collection", "c", "--method", "lsh", "--bits", "32", "--input", input);
        JsonElement again = JsonLines(Ok("train", db, "--collection", "c", "--method", "lsh", "--bits", "32", "--input", input, "--seed", "9").Stdout)[0];
        Assert.Equal("c", again.GetProperty("attached").GetString());
        Assert.Contains("holds 32-bit codes, but the encoder would make 64-bit",
            Bad(null, "train", db, "--collection", "c", "--method", "lsh", "--bits", "64", "--input", input), StringComparison.Ordinal);
        // From standard input, gzip-compressed, with labels counted to the end of the stream.
        string labelFile = PathOf("data.labels"), gz = PathOf("data.hdbf.gz");
        DatasetFiles.WriteLabels(labelFile, Enumerable.Range(0, DataRows).Select(i => i % 3).ToArray());
        DatasetFiles.WriteVectors(gz, data, VectorFileFormat.Hdbf, compress: true);
        JsonElement piped = JsonLines(Ok(File.ReadAllBytes(gz), "train", db, "--collection", "s", "--method", "grh", "--bits", "16", "--input", "-",
            "--labels", labelFile, "--train-rows", "100").Stdout)[0];
        Assert.Equal(100, piped.GetProperty("rows").GetInt32());
        Assert.Contains("holds 300 rows; give one label per row", Bad(File.ReadAllBytes(gz), "train", db, "--collection", "t", "--method", "grh", "--bits", "16",
            "--input", "-", "--labels", PathOf("short.labels"), "--train-rows", "100"), StringComparison.Ordinal);
        Assert.Contains("--key-type string applies only to a new collection",
            Bad(null, "train", db, "--collection", "c", "--method", "lsh", "--bits", "32", "--input", input, "--key-type", "string"), StringComparison.Ordinal);
    }

    // Each bad train: exit 2, the message, and no database (or no new collection) afterwards.
    public static TheoryData<string> TrainErrors() => [.. TrainCases.Keys];

    private static readonly Dictionary<string, (string[] Args, string Says)> TrainCases = new()
    {
        ["unknown method"] = (["--method", "pq", "--bits", "32"], "'pq'"),
        ["bad width"] = (["--method", "lsh", "--bits", "12"], "--bits must be a multiple of 8"),
        ["no width"] = (["--method", "itq"], "--method itq needs --bits"),
        ["bq width not the dimension's"] = (["--method", "bq-mean", "--bits", "64"], "--bits 64: binary quantization of dimension 16 makes 16-bit codes"),
        ["grh without labels"] = (["--method", "grh", "--bits", "32"], "--method grh is supervised: give --labels"),
        ["labels count"] = (["--method", "grh", "--bits", "32", "--labels", "short.labels"], "holds 299 labels, but"),
        ["NaN"] = (["--method", "lsh", "--bits", "32", "--input", "nan.hdbf"], "row 17, column 3: NaN is not finite"),
        ["too few rows"] = (["--method", "itq", "--bits", "64", "--train-rows", "10"], "10 training rows; ITQ at 64 bits"),
        ["no such input"] = (["--method", "lsh", "--bits", "32", "--input", "absent.hdbf"], "absent.hdbf"),
        ["zero train rows"] = (["--method", "lsh", "--bits", "32", "--train-rows", "0"], "--train-rows must be at least 1"),
    };

    [Theory]
    [MemberData(nameof(TrainErrors))]
    public void A_bad_train_exits_2_names_the_problem_and_creates_nothing(string name)
    {
        var (data, labels, _) = Data(2005);
        WriteVectors("data.hdbf", data);
        DatasetFiles.WriteLabels(PathOf("short.labels"), labels.AsSpan(1));
        File.WriteAllBytes(PathOf("nan.hdbf"), HdbfBytes(data, (17, 3, float.NaN)));
        var (args, says) = TrainCases[name];
        string[] given = [.. args.Select(a => a.Contains('.', StringComparison.Ordinal) ? PathOf(a) : a)];
        string[] full = ["train", PathOf("db"), "--collection", "c", .. given.Contains("--input") ? given : [.. given, "--input", PathOf("data.hdbf")]];
        Assert.Contains(says, Bad(null, full), StringComparison.Ordinal);
        Assert.False(Directory.Exists(PathOf("db")), "no database is created");

        // Into an existing database: no collection appears.
        Ok("create", PathOf("db"), "--bits", "64", "--collection", "other");
        Assert.Contains(says, Bad(null, full), StringComparison.Ordinal);
        using HammingDatabase opened = HammingDatabase.Open(PathOf("db"));
        Assert.Equal(["other"], opened.CollectionNames);
    }

    [Fact]
    public void Train_refuses_a_collection_with_rows_or_without_vectors_and_changes_nothing()
    {
        var (data, _, _) = Data(2006);
        string db = PathOf("db"), input = WriteVectors("data.hdbf", data);
        Ok("train", db, "--collection", "c", "--method", "lsh", "--bits", "32", "--input", input);
        Ok("ingest", db, input, "--collection", "c", "--format", "hdbf", "--progress", "none");
        string before = Ok("query", db, input, "--collection", "c", "--format", "hdbf", "--k", "3").Stdout;
        Assert.Contains("collection 'c' holds 300 rows; an encoder is trained only for a new or empty collection",
            Bad(null, "train", db, "--collection", "c", "--method", "lsh", "--bits", "32", "--input", input, "--seed", "5"), StringComparison.Ordinal);
        Assert.Equal(before, Ok("query", db, input, "--collection", "c", "--format", "hdbf", "--k", "3").Stdout);
        Ok("create", db, "--bits", "32", "--collection", "codes");
        Assert.Contains("collection 'codes' keeps no vectors",
            Bad(null, "train", db, "--collection", "codes", "--method", "lsh", "--bits", "32", "--input", input), StringComparison.Ordinal);
    }

    // Each bad float ingest: exit 2 naming the place, and the collection stays empty.
    public static TheoryData<string> IngestErrors() => [.. IngestCases.Keys];

    private static readonly Dictionary<string, (string Collection, string Format, Func<FloatVectors, byte[]> Input, string[] Says)> IngestCases = new()
    {
        ["hdbf of another dimension"] = ("v", "hdbf", d => HdbfBytes(new FloatVectors(d.Values.AsSpan(0, 8 * 30).ToArray(), 8)), ["dimension 8", "takes vectors of dimension 16"]),
        ["hdbf with NaN"] = ("v", "hdbf", d => HdbfBytes(d, (250, 4, float.NaN)), ["row 250, column 4: NaN is not finite"]),
        ["hdbf with infinity"] = ("v", "hdbf", d => HdbfBytes(d, (251, 0, float.PositiveInfinity)), ["row 251, column 0", "not finite"]),
        ["fvecs of changing dimension"] = ("v", "fvecs", d => [.. FvecsBytes(d), .. FvecsBytes(new FloatVectors(new float[8], 8))], ["row 300", "dimension"]),
        ["ndjson malformed number"] = ("v", "ndjson", d => NdjsonWith(d, "{\"key\":1,\"vector\":[1.5.2" + new string(',', 0) + "]}"), ["line 301", "not valid JSON"]),
        ["ndjson number not a float32"] = ("v", "ndjson", d => NdjsonWith(d, $"{{\"key\":1,\"vector\":[1e39{string.Concat(Enumerable.Repeat(",0", Dimension - 1))}]}}"),
            ["line 301", "element 0 is 1e39, not a finite float32"]),
        ["ndjson string in vector"] = ("v", "ndjson", d => NdjsonWith(d, "{\"key\":1,\"vector\":[\"NaN\"]}"), ["line 301", "element 0 is not a number (a string)"]),
        ["ndjson wrong dimension"] = ("v", "ndjson", d => NdjsonWith(d, "{\"key\":1,\"vector\":[1,2,3]}"), ["line 301", "\"vector\" has 3 values", "dimension 16"]),
        ["ndjson code and vector"] = ("v", "ndjson", d => NdjsonWith(d, $"{{\"key\":1,\"code\":\"00000000\",\"vector\":{Json(d.Row(0))}}}"), ["line 301", "both \"code\" and \"vector\""]),
        ["ndjson code into a vector collection"] = ("v", "ndjson", d => NdjsonWith(d, "{\"key\":1,\"code\":\"00000000\"}"), ["line 301", "give \"vector\""]),
        ["ndjson vector without an encoder"] = ("plain", "ndjson", d => Utf8($"{{\"key\":1,\"code\":\"00000000\"}}\n{{\"key\":2,\"vector\":{Json(d.Row(0))}}}\n"),
            ["line 2", "has \"vector\", but collection 'plain' has no encoder", "hdb train"]),
        ["hdbf without an encoder"] = ("plain", "hdbf", d => HdbfBytes(d), ["has no encoder", "hdb train"]),
        ["hex into a vector collection"] = ("v", "hex", _ => Utf8("00000000\n"), ["keeps a float vector with every row"]),
    };

    [Theory]
    [MemberData(nameof(IngestErrors))]
    public void A_bad_float_ingest_exits_2_names_the_place_and_writes_nothing(string name)
    {
        var (data, _, _) = Data(2007);
        string db = PathOf("db");
        Ok("train", db, "--collection", "v", "--method", "lsh", "--bits", "32", "--input", WriteVectors("data.hdbf", data));
        Ok("create", db, "--collection", "plain", "--bits", "32");
        var (collection, format, input, says) = IngestCases[name];
        string file = PathOf("bad." + format);
        File.WriteAllBytes(file, input(data));
        string message = Bad(null, "ingest", db, file, "--collection", collection, "--format", format, "--batch-rows", "50", "--progress", "none");
        foreach (string fragment in says)
        {
            Assert.Contains(fragment, message, StringComparison.Ordinal);
        }
        Assert.Equal(0, Rows(db, collection));
    }

    [Fact]
    public void Bad_float_queries_exit_2_and_print_nothing()
    {
        var (data, _, queries) = Data(2008);
        string db = PathOf("db"), input = WriteVectors("data.hdbf", data), queryFile = WriteVectors("queries.hdbf", queries);
        Ok("train", db, "--collection", "v", "--method", "lsh", "--bits", "32", "--input", input);
        Ok("create", db, "--collection", "plain", "--bits", "32");
        string narrow = WriteVectors("narrow.hdbf", new FloatVectors(new float[8 * 3], 8));
        Assert.Contains("has no encoder", Bad(null, "query", db, queryFile, "--collection", "plain", "--format", "hdbf", "--k", "3"), StringComparison.Ordinal);
        Assert.Contains("hdb train", Bad(Utf8($"{{\"vector\":{Json(queries.Row(0))}}}\n"), "query", db, "-", "--collection", "plain", "--format", "ndjson", "--k", "3"),
            StringComparison.Ordinal);
        Assert.Contains("takes vectors of dimension 16", Bad(null, "query", db, narrow, "--collection", "v", "--format", "hdbf", "--k", "3"), StringComparison.Ordinal);
        Assert.Contains("--rescore re-ranks by float vectors", Bad(Utf8("00000000\n"), "query", db, "-", "--collection", "v", "--format", "hex", "--k", "3", "--rescore", "2"),
            StringComparison.Ordinal);
        Assert.Contains("goes with --k", Bad(null, "query", db, queryFile, "--collection", "v", "--format", "hdbf", "--radius", "3", "--rescore", "2"), StringComparison.Ordinal);
        Assert.Contains("give --rescore", Bad(null, "query", db, queryFile, "--collection", "v", "--format", "hdbf", "--k", "3", "--metric", "dot"), StringComparison.Ordinal);
        string mixed = $"{{\"vector\":{Json(queries.Row(0))}}}\n{{\"code\":\"00000000\"}}\n";
        Assert.Contains("line 2", Bad(Utf8(mixed), "query", db, "-", "--collection", "v", "--format", "ndjson", "--k", "3"), StringComparison.Ordinal);
        Assert.Contains("line 1: \"vector\" has 2 values", Bad(Utf8("{\"vector\":[1,2]}\n"), "query", db, "-", "--collection", "v", "--format", "ndjson", "--k", "3"),
            StringComparison.Ordinal);
        // Codes still work on a vector collection.
        Ok(Utf8("00000000\n"), "query", db, "-", "--collection", "v", "--format", "hex", "--k", "3");
    }

    // Gaussian rows with four loose groups (labels), and queries near some of them.
    private static (FloatVectors Data, int[] Labels, FloatVectors Queries) Data(int seed)
    {
        var random = new Random(seed);
        (float[] vectors, int[] labels) = EncoderTestData.PlantedClusters(random, DataRows, Dimension, clusters: 4, signalDimensions: 6, spread: 3, noise: 1);
        float[] queries = EncoderTestData.GaussianVectors(random, QueryRows, Dimension, scale: 2);
        return (new FloatVectors(vectors, Dimension), labels, new FloatVectors(queries, Dimension));
    }

    private string WriteVectors(string name, FloatVectors vectors)
    {
        string path = PathOf(name);
        DatasetFiles.WriteVectors(path, vectors, VectorFileFormat.Hdbf);
        return path;
    }

    // The writer refuses NaN and infinity: a bad value is patched into the bytes (32-byte header, then row-major little-endian float32).
    private static byte[] HdbfBytes(FloatVectors vectors, (int Row, int Column, float Value)? patch = null)
    {
        using var stream = new MemoryStream();
        DatasetFiles.WriteHdbf(stream, vectors.Values, vectors.Dimension);
        byte[] bytes = stream.ToArray();
        if (patch is var (row, column, value))
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(32 + 4 * (row * vectors.Dimension + column)), value);
        }
        return bytes;
    }

    private static byte[] FvecsBytes(FloatVectors vectors)
    {
        string path = Path.GetTempFileName();
        try
        {
            DatasetFiles.WriteVectors(path, vectors, VectorFileFormat.Fvecs);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static byte[] NdjsonWith(FloatVectors vectors, string bad) =>
        Utf8(string.Concat(Enumerable.Range(0, vectors.Count).Select(i => $"{{\"key\":{i},\"vector\":{Json(vectors.Row(i))}}}\n")) + bad + "\n");

    private static string Json(ReadOnlySpan<float> vector) => "[" + string.Join(",", vector.ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";

    private static IEnumerable<(ulong, int)> Expected(IReadOnlyList<SearchResult<ulong>> results) => results.Select(r => (r.Key, r.Distance));

    private static List<(ulong, int)> Results(JsonElement query) =>
        [.. query.GetProperty("results").EnumerateArray().Select(r => (r.GetProperty("key").GetUInt64(), r.GetProperty("distance").GetInt32()))];
}
