using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using HammingDB.Encoders.Data;
using Xunit.Abstractions;

namespace HammingDB.Tests.Encoders;

public sealed class DatasetTests(ITestOutputHelper output) : IDisposable
{
    private readonly DatasetTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    // ---- round trips through the writers ----

    [Theory]
    [InlineData(VectorFileFormat.Hdbf, false)]
    [InlineData(VectorFileFormat.Hdbf, true)]
    [InlineData(VectorFileFormat.Fvecs, false)]
    [InlineData(VectorFileFormat.Fvecs, true)]
    public void Vectors_round_trip_whole_and_in_blocks(VectorFileFormat format, bool compress)
    {
        const int seed = 501;
        output.WriteLine($"seed {seed}");
        FloatVectors vectors = RandomVectors(new Random(seed), rows: 53, dimension: 7);
        string path = _files.PathOf("v." + (format == VectorFileFormat.Hdbf ? "hdbf" : "fvecs") + (compress ? ".gz" : ""));
        DatasetFiles.WriteVectors(path, vectors, format, compress);

        FloatVectors loaded = DatasetFiles.LoadVectors(path);
        Assert.Equal(7, loaded.Dimension);
        Assert.Equal(53, loaded.Count);
        Assert.Equal(vectors.Values, loaded.Values);

        using FloatVectorReader reader = FloatVectorReader.Open(path);
        Assert.Equal(format, reader.Format);
        Assert.Equal(compress, reader.Compressed);
        Assert.Equal(format == VectorFileFormat.Fvecs && compress ? null : 53L, reader.Count);
        List<FloatVectors> blocks = reader.ReadBlocks(rowsPerBlock: 10).ToList();
        Assert.Equal([10, 10, 10, 10, 10, 3], blocks.Select(b => b.Count));
        Assert.Equal(vectors.Values, blocks.SelectMany(b => b.Values));
        Assert.Equal(53, reader.RowsRead);
        Assert.Equal(0, reader.ReadRows(new float[7]));
    }

    [Fact]
    public void An_empty_hdbf_file_has_its_dimension_and_no_rows()
    {
        string path = _files.PathOf("empty.hdbf");
        DatasetFiles.WriteVectors(path, new FloatVectors([], 5));
        FloatVectors loaded = DatasetFiles.LoadVectors(path);
        Assert.Equal((5, 0), (loaded.Dimension, loaded.Count));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Labels_ground_truth_and_ivecs_round_trip(bool compress)
    {
        const int seed = 502;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        int[] labels = Enumerable.Range(0, 41).Select(_ => random.Next(-3, 10)).ToArray();
        string gz = compress ? ".gz" : "";
        DatasetFiles.WriteLabels(_files.PathOf("a.labels" + gz), labels, compress);
        Assert.Equal(labels, DatasetFiles.LoadLabels(_files.PathOf("a.labels" + gz)));

        var truth = new GroundTruth(Enumerable.Range(0, 12 * 5).Select(_ => random.Next(1000)).ToArray(), k: 5);
        foreach (string name in new[] { "a.gt", "a.ivecs" })
        {
            DatasetFiles.WriteGroundTruth(_files.PathOf(name + gz), truth, compress);
            GroundTruth loaded = DatasetFiles.LoadGroundTruth(_files.PathOf(name + gz));
            Assert.Equal((5, 12), (loaded.K, loaded.QueryCount));
            Assert.Equal(truth.Ids, loaded.Ids);
            Assert.Equal(truth.Neighbors(11).ToArray(), loaded.Neighbors(11).ToArray());
        }

        var ints = new IntVectors(Enumerable.Range(0, 9 * 4).Select(_ => random.Next()).ToArray(), dimension: 4);
        DatasetFiles.WriteIvecs(_files.PathOf("b.ivecs" + gz), ints, compress);
        IntVectors back = DatasetFiles.LoadIvecs(_files.PathOf("b.ivecs" + gz));
        Assert.Equal((4, 9), (back.Dimension, back.Count));
        Assert.Equal(ints.Values, back.Values);
    }

    [Fact]
    public void The_writer_refuses_NaN_and_infinity()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            DatasetFiles.WriteVectors(_files.PathOf("x.hdbf"), new FloatVectors([1, 2, 3, float.NaN], 2)));
        Assert.Contains("row 1, column 1", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() =>
            DatasetFiles.WriteHdbf(Stream.Null, [float.PositiveInfinity], 1));
    }

    // ---- malformed input: InvalidDataException naming the file, the row and the problem ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bad_magic_is_refused_for_every_headed_format(bool compress)
    {
        byte[] bytes = Header("HDBXVECS", 2, 1).Concat(Floats(1, 2)).ToArray();
        string path = Write("bad.hdbf", bytes, compress);
        AssertInvalid(() => DatasetFiles.LoadVectors(path), path, "bad magic \"HDBXVECS\"", "HDBFVECS");
        AssertInvalid(() => DatasetFiles.LoadLabels(path), path, "bad magic", "HDBLABEL");
        AssertInvalid(() => DatasetFiles.LoadGroundTruth(path), path, "bad magic", "HDBGTIDS");
    }

    [Fact]
    public void A_file_shorter_than_the_header_is_truncated()
    {
        string path = _files.WriteBytes("short.hdbf", Header("HDBFVECS", 2, 1)[..10]);
        AssertInvalid(() => DatasetFiles.LoadVectors(path), path, "truncated", "32 bytes", "holds 10");
    }

    [Fact]
    public void Nonzero_reserved_fields_and_a_zero_dimension_are_refused()
    {
        byte[] reserved = Header("HDBFVECS", 2, 1).Concat(Floats(1, 2)).ToArray();
        reserved[12] = 1;
        string path = _files.WriteBytes("reserved.hdbf", reserved);
        AssertInvalid(() => DatasetFiles.LoadVectors(path), path, "reserved fields");

        string zero = _files.WriteBytes("zero.hdbf", Header("HDBFVECS", 0, 0));
        AssertInvalid(() => DatasetFiles.LoadVectors(zero), zero, "dimension 0");

        string k0 = _files.WriteBytes("k0.gt", Header("HDBGTIDS", 0, 0));
        AssertInvalid(() => DatasetFiles.LoadGroundTruth(k0), k0, "k = 0");
    }

    [Fact]
    public void A_count_that_disagrees_with_the_length_of_an_uncompressed_file_is_found_at_open()
    {
        // 3 rows stated, 2 and a half present.
        byte[] shortBody = Header("HDBFVECS", 2, 3).Concat(Floats(1, 2, 3, 4, 5)).ToArray();
        string path = _files.WriteBytes("short.hdbf", shortBody);
        AssertInvalid(() => FloatVectorReader.Open(path), path, "disagrees with the file length", "ends in row 2");

        // 1 row stated, 2 present.
        byte[] longBody = Header("HDBFVECS", 2, 1).Concat(Floats(1, 2, 3, 4)).ToArray();
        string extra = _files.WriteBytes("long.hdbf", longBody);
        AssertInvalid(() => FloatVectorReader.Open(extra), extra, "disagrees with the file length", "8 bytes follow the last row");

        byte[] labels = Header("HDBLABEL", 0, 5).Concat(Ints(1, 2, 3)).ToArray();
        string labelPath = _files.WriteBytes("short.labels", labels);
        AssertInvalid(() => DatasetFiles.LoadLabels(labelPath), labelPath, "disagrees with the file length", "ends in row 3");
    }

    [Fact]
    public void A_truncated_or_overlong_gzip_file_is_found_at_the_row_where_it_ends()
    {
        string shortPath = Write("short.hdbf.gz", Header("HDBFVECS", 2, 3).Concat(Floats(1, 2, 3, 4, 5)).ToArray(), compress: true);
        AssertInvalid(() => DatasetFiles.LoadVectors(shortPath), shortPath, "truncated", "row 2");

        string longPath = Write("long.hdbf.gz", Header("HDBFVECS", 2, 1).Concat(Floats(1, 2, 3, 4)).ToArray(), compress: true);
        AssertInvalid(() => DatasetFiles.LoadVectors(longPath), longPath, "disagrees with the file length", "bytes follow the 1");

        string gtPath = Write("short.gt.gz", Header("HDBGTIDS", 2, 3).Concat(Ints(1, 2, 3)).ToArray(), compress: true);
        AssertInvalid(() => DatasetFiles.LoadGroundTruth(gtPath), gtPath, "truncated", "row 1");
    }

    [Fact]
    public void A_gzip_stream_cut_in_the_middle_is_refused()
    {
        const int seed = 503;
        output.WriteLine($"seed {seed}");
        string whole = _files.PathOf("whole.hdbf.gz");
        DatasetFiles.WriteVectors(whole, RandomVectors(new Random(seed), 200, 16), compress: true);
        byte[] bytes = File.ReadAllBytes(whole);
        string cut = _files.WriteBytes("cut.hdbf.gz", bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<InvalidDataException>(() => DatasetFiles.LoadVectors(cut));
        output.WriteLine(error.Message);
        Assert.StartsWith(cut + ": ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_count_that_would_overflow_memory_is_refused_before_allocating()
    {
        // gzip: no length to check the count against at open.
        string huge = Write("huge.hdbf.gz", Header("HDBFVECS", 128, 1UL << 40).Concat(Floats(1, 2)).ToArray(), compress: true);
        using (FloatVectorReader reader = FloatVectorReader.Open(huge))
        {
            var error = Assert.Throws<InvalidDataException>(reader.ReadAll);
            Assert.Contains("would overflow memory", error.Message, StringComparison.Ordinal);
            Assert.StartsWith(huge + ": ", error.Message, StringComparison.Ordinal);
        }

        // A count that fits one array but is a lie: found truncated without allocating 2e9 floats.
        string lie = Write("lie.hdbf.gz", Header("HDBFVECS", 2, 1_000_000_000).Concat(Floats(1, 2, 3, 4)).ToArray(), compress: true);
        long before = GC.GetAllocatedBytesForCurrentThread();
        AssertInvalid(() => DatasetFiles.LoadVectors(lie), lie, "truncated", "row 2");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 256L << 20, "the reader allocated for the header's count");

        string labels = Write("huge.labels.gz", Header("HDBLABEL", 0, 1UL << 40).ToArray(), compress: true);
        AssertInvalid(() => DatasetFiles.LoadLabels(labels), labels, "would overflow memory");

        string outOfRange = _files.WriteBytes("range.hdbf", Header("HDBFVECS", 1, ulong.MaxValue));
        AssertInvalid(() => DatasetFiles.LoadVectors(outOfRange), outOfRange, "count 18446744073709551615 is out of range");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NaN_and_infinity_in_vectors_are_refused_with_row_and_column(bool compress)
    {
        float[] values = [1, 2, 3, 4, 5, 6, 7, float.NaN, 9];
        string hdbf = Write("nan.hdbf", Header("HDBFVECS", 3, 3).Concat(Floats(values)).ToArray(), compress);
        AssertInvalid(() => DatasetFiles.LoadVectors(hdbf), hdbf, "row 2, column 1", "NaN", "not finite");

        string fvecs = Write("inf.fvecs", Fvecs(2, [1, 2], [float.NegativeInfinity, 4]), compress);
        AssertInvalid(() => DatasetFiles.LoadVectors(fvecs), fvecs, "row 1, column 0", "not finite");

        // Streaming returns the rows before the bad one, then throws at it.
        using FloatVectorReader reader = FloatVectorReader.Open(hdbf);
        var buffer = new float[6];
        Assert.Equal(2, reader.ReadRows(buffer));
        AssertInvalid(() => reader.ReadRows(buffer), hdbf, "row 2, column 1");
    }

    [Fact]
    public void A_dimension_that_changes_between_rows_is_refused()
    {
        // gzip: no length check, so the row that changes is found as it is read.
        byte[] bytes = Fvecs(2, [1, 2], [3, 4]).Concat(Fvecs(3, [5, 6, 7])).ToArray();
        string gz = Write("change.fvecs.gz", bytes, compress: true);
        AssertInvalid(() => DatasetFiles.LoadVectors(gz), gz, "row 2: dimension 3 differs from row 0's 2");

        string ivecs = Write("change.ivecs.gz", bytes, compress: true);
        AssertInvalid(() => DatasetFiles.LoadIvecs(ivecs), ivecs, "row 2: dimension 3 differs");

        string plain = _files.WriteBytes("change.fvecs", bytes);
        AssertInvalid(() => DatasetFiles.LoadVectors(plain), plain, "row 2: dimension 3 differs from row 0's 2");

        string negative = _files.WriteBytes("neg.fvecs", Fvecs(-1, []));
        AssertInvalid(() => DatasetFiles.LoadVectors(negative), negative, "row 0: dimension -1");

        string empty = _files.WriteBytes("empty.fvecs", []);
        AssertInvalid(() => DatasetFiles.LoadVectors(empty), empty, "empty fvecs file");
    }

    [Fact]
    public void A_truncated_fvecs_row_is_refused()
    {
        byte[] bytes = Fvecs(3, [1, 2, 3], [4, 5, 6])[..^4];
        foreach (bool compress in new[] { false, true })
        {
            string path = Write("cut.fvecs", bytes, compress);
            AssertInvalid(() => DatasetFiles.LoadVectors(path), path, "truncated: row 1");
        }
    }

    [Fact]
    public void Negative_ground_truth_ids_are_refused()
    {
        string path = _files.WriteBytes("neg.gt", Header("HDBGTIDS", 2, 2).Concat(Ints(1, 2, 3, -4)).ToArray());
        AssertInvalid(() => DatasetFiles.LoadGroundTruth(path), path, "row 1, neighbour 1", "negative");
    }

    // ---- the real files in ../shared/data load with the counts its README states ----

    [Fact]
    public void Shared_fashion_mnist_loads_with_the_stated_shapes()
    {
        FloatVectors baseRows = DatasetFiles.LoadVectors(DatasetTestFiles.Shared("fashion-mnist-test10k/base.hdbf.gz"));
        FloatVectors queries = DatasetFiles.LoadVectors(DatasetTestFiles.Shared("fashion-mnist-test10k/query.hdbf.gz"));
        int[] baseLabels = DatasetFiles.LoadLabels(DatasetTestFiles.Shared("fashion-mnist-test10k/base.labels.gz"));
        int[] queryLabels = DatasetFiles.LoadLabels(DatasetTestFiles.Shared("fashion-mnist-test10k/query.labels.gz"));
        GroundTruth truth = DatasetFiles.LoadGroundTruth(DatasetTestFiles.Shared("fashion-mnist-test10k/query-l2-k100.gt.gz"));
        Assert.Equal((9000, 784), (baseRows.Count, baseRows.Dimension));
        Assert.Equal((1000, 784), (queries.Count, queries.Dimension));
        Assert.Equal(9000, baseLabels.Length);
        Assert.Equal(1000, queryLabels.Length);
        Assert.Equal((1000, 100), (truth.QueryCount, truth.K));
        Assert.True(baseLabels.Concat(queryLabels).All(label => label is >= 0 and <= 9));
        Assert.True(baseRows.Values.All(v => v is >= 0 and <= 255));
        Assert.True(truth.Ids.All(id => id is >= 0 and < 9000));
    }

    [Fact]
    public void Shared_sift10k_loads_with_the_stated_shapes_and_the_official_first_neighbours()
    {
        FloatVectors baseRows = DatasetFiles.LoadVectors(DatasetTestFiles.Shared("sift10k/base.hdbf.gz"));
        FloatVectors queries = DatasetFiles.LoadVectors(DatasetTestFiles.Shared("sift10k/query.hdbf.gz"));
        GroundTruth truth = DatasetFiles.LoadGroundTruth(DatasetTestFiles.Shared("sift10k/query-l2-k100.gt.gz"));
        Assert.Equal((10000, 128), (baseRows.Count, baseRows.Dimension));
        Assert.Equal((100, 128), (queries.Count, queries.Dimension));
        Assert.Equal((100, 100), (truth.QueryCount, truth.K));
        // SOURCE.txt: the first row of the official siftsmall_groundtruth.ivecs.
        Assert.Equal([2176, 3752, 882, 4009, 2837, 190, 3615, 816, 1045, 1884], truth.Neighbors(0)[..10].ToArray());
    }

    [Fact]
    public void Shared_statlog_dna_loads_with_the_stated_shape_and_class_counts()
    {
        FloatVectors rows = DatasetFiles.LoadVectors(DatasetTestFiles.Shared("statlog-dna-180bit/codes-01.hdbf.gz"));
        int[] labels = DatasetFiles.LoadLabels(DatasetTestFiles.Shared("statlog-dna-180bit/codes.labels.gz"));
        Assert.Equal((3186, 180), (rows.Count, rows.Dimension));
        Assert.True(rows.Values.All(v => v is 0f or 1f));
        Assert.Equal([767, 765, 1654], Enumerable.Range(0, 3).Select(c => labels.Count(l => l == c)));
    }

    // ---- helpers: bytes built by hand, independent of the writers ----

    private string Write(string name, byte[] bytes, bool compress)
    {
        if (!compress)
        {
            return _files.WriteBytes(name, bytes);
        }
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(bytes);
        }
        return _files.WriteBytes(name.EndsWith(".gz", StringComparison.Ordinal) ? name : name + ".gz", compressed.ToArray());
    }

    private void AssertInvalid(Action read, string path, params string[] parts)
    {
        var error = Assert.Throws<InvalidDataException>(read);
        output.WriteLine(error.Message);
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        foreach (string part in parts)
        {
            Assert.Contains(part, error.Message, StringComparison.Ordinal);
        }
    }

    private static FloatVectors RandomVectors(Random random, int rows, int dimension) =>
        new(Enumerable.Range(0, rows * dimension).Select(_ => (float)(random.NextDouble() * 200 - 100)).ToArray(), dimension);

    private static byte[] Header(string magic, uint field, ulong count)
    {
        var header = new byte[32];
        Encoding.ASCII.GetBytes(magic).CopyTo(header, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), field);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), count);
        return header;
    }

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }
        return bytes;
    }

    private static byte[] Ints(params int[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), values[i]);
        }
        return bytes;
    }

    private static byte[] Fvecs(int dimension, params float[][] rows) =>
        rows.Length == 0
            ? Ints(dimension)
            : rows.SelectMany(row => Ints(dimension).Concat(Floats(row))).ToArray();
}
