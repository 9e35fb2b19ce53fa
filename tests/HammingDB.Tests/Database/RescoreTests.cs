using HammingDB.Kernels;
using HammingDB.Storage;
using HammingDB.Storage.Keys;
using Xunit.Abstractions;

namespace HammingDB.Tests.Database;

/// <summary>
/// Rescoring against brute force: every live row's Hamming distance and vector distance computed here, the
/// k x oversample Hamming-nearest taken (ties by key), re-ranked by the vector distance (ties by key).
/// </summary>
public class RescoreTests(ITestOutputHelper output)
{
    private const string Dir = "/db";
    private const int Dimension = 12;

    // The metrics, restated: L2 squared, 1 - cosine (1 when a norm is 0), negated dot; in double, index order.
    private static double Metric(VectorMetric metric, float[] q, float[] x)
    {
        double dot = 0, qq = 0, xx = 0, l2 = 0;
        for (int i = 0; i < q.Length; i++)
        {
            dot += (double)q[i] * x[i];
            qq += (double)q[i] * q[i];
            xx += (double)x[i] * x[i];
            double d = (double)q[i] - x[i];
            l2 += d * d;
        }
        return metric switch
        {
            VectorMetric.L2 => l2,
            VectorMetric.Dot => -dot,
            _ => qq == 0 || xx == 0 ? 1 : 1 - dot / (Math.Sqrt(qq) * Math.Sqrt(xx)),
        };
    }

    private static int Hamming(ulong[] a, ulong[] b)
    {
        int d = 0;
        for (int i = 0; i < a.Length; i++)
        {
            d += System.Numerics.BitOperations.PopCount(a[i] ^ b[i]);
        }
        return d;
    }

    private static float[] RandomVector(Random random) =>
        Enumerable.Range(0, Dimension).Select(_ => (float)(random.NextDouble() * 2 - 1) * (random.Next(4) == 0 ? 10 : 1)).ToArray();

    [Theory]
    [InlineData(VectorStorage.Float32, 64, 11)]
    [InlineData(VectorStorage.Int8, 64, 12)]
    [InlineData(VectorStorage.Float32, 128, 13)]
    [InlineData(VectorStorage.Int8, 200, 14)]
    public async Task Rescored_knn_equals_brute_force_over_segments_memtable_and_deletions(VectorStorage storage, int bits, int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        var options = new DatabaseOptions { SealRows = 400, BackgroundCompaction = false, MihMinRows = 200, ScanChunkRows = 128 };
        using HammingDatabase db = HammingDatabase.Open(new MemoryFileSystem(), Dir, options, new MemoryKeyIndexStore());
        HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = bits, VectorDimension = Dimension, VectorStorage = storage });
        Assert.Equal(storage, items.VectorStorage);

        // Codes from a small pool with a few bits flipped (many Hamming ties); some vectors shared (exact vector ties).
        ulong[][] pool = Enumerable.Range(0, 30).Select(_ => TestData.RandomCode(random, layout)).ToArray();
        float[][] shared = Enumerable.Range(0, 10).Select(_ => RandomVector(random)).ToArray();
        ulong[] Code()
        {
            ulong[] code = (ulong[])pool[random.Next(pool.Length)].Clone();
            for (int f = random.Next(4); f > 0; f--)
            {
                int bit = random.Next(bits);
                code[bit / 64] ^= 1UL << (bit % 64);
            }
            return code;
        }
        var live = new HashSet<ulong>();
        for (int step = 0; step < 2000; step++)
        {
            ulong key = (ulong)random.Next(1500);
            if (random.Next(8) == 0)
            {
                items.Delete(key);
                live.Remove(key);
            }
            else
            {
                items.Upsert(key, Code(), vector: random.Next(5) == 0 ? shared[random.Next(shared.Length)] : RandomVector(random));
                live.Add(key);
            }
            if (step == 1200)
            {
                db.Compact();
            }
        }
        var stats = items.GetStats();
        output.WriteLine($"{stats.Segments} segments, {stats.MemtableRows} memtable rows, {stats.DeletedRows} deleted rows, {live.Count} live");
        Assert.True(stats.Segments >= 2 && stats.MemtableRows > 0 && stats.DeletedRows > 0, "the data must span segments, a memtable and deletions");

        // What each live row holds now, as reads return it (dequantized for sealed int8 rows).
        var rows = live.ToDictionary(key => key, key =>
        {
            Assert.True(items.TryGet(key, out StoredRow<ulong>? row));
            return row!;
        });
        foreach (VectorMetric metric in Enum.GetValues<VectorMetric>())
        {
            for (int q = 0; q < 12; q++)
            {
                ulong[] code = Code();
                float[] vector = q % 5 == 4 ? shared[random.Next(shared.Length)] : RandomVector(random);
                int k = 1 + random.Next(10);
                int oversample = 1 + random.Next(8);
                var expected = rows.Values
                    .Select(r => (r.Key, Hamming: Hamming(r.Code, code), r.Vector))
                    .OrderBy(r => r.Hamming).ThenBy(r => r.Key).Take(k * oversample)
                    .Select(r => (r.Key, r.Hamming, Distance: Metric(metric, vector, r.Vector!)))
                    .OrderBy(r => r.Distance).ThenBy(r => r.Key).Take(k).ToList();
                foreach (QueryPlan plan in Enum.GetValues<QueryPlan>())
                {
                    IReadOnlyList<RescoredResult<ulong>> actual = items.KnnRescored(code, vector, k, oversample, metric, plan);
                    string what = $"seed {seed}, {metric}, query {q}, k {k}, oversample {oversample}, {plan}";
                    Assert.True(expected.Count == actual.Count, $"{what}: {actual.Count} results, {expected.Count} expected");
                    for (int i = 0; i < expected.Count; i++)
                    {
                        Assert.True(expected[i].Key == actual[i].Key && expected[i].Hamming == actual[i].HammingDistance
                            && Math.Abs(expected[i].Distance - actual[i].VectorDistance) <= 1e-9 * (1 + Math.Abs(expected[i].Distance)),
                            $"{what}: result {i} is {actual[i]}, expected {expected[i]}");
                    }
                }
                IReadOnlyList<RescoredResult<ulong>> async = await items.KnnRescoredAsync(code, vector, k, oversample, metric);
                Assert.Equal(expected.Select(e => e.Key), async.Select(a => a.Key));
            }
        }
    }

    [Theory]
    [InlineData(VectorStorage.Float32)]
    [InlineData(VectorStorage.Int8)]
    public void Seals_and_compactions_carry_vectors_through(VectorStorage storage)
    {
        const int seed = 21;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var fs = new MemoryFileSystem();
        var keys = new MemoryKeyIndexStore();
        var options = new DatabaseOptions { SealRows = 1000, BackgroundCompaction = false };
        var written = new Dictionary<ulong, float[]>();
        Dictionary<ulong, float[]> sealedVectors;
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, options, keys))
        {
            HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64, VectorDimension = Dimension, VectorStorage = storage });
            for (ulong key = 0; key < 450; key++)
            {
                float[] vector = RandomVector(random);
                items.Upsert(key, [(ulong)random.NextInt64()], vector: vector);
                written[key] = vector;
                // Memtable rows read back as written.
                Assert.True(items.TryGet(key, out StoredRow<ulong>? row));
                Assert.Equal(vector, row!.Vector);
                if (key % 100 == 99)
                {
                    db.Flush();
                }
            }
            db.Flush();
            sealedVectors = written.Keys.ToDictionary(k => k, k => items.TryGet(k, out StoredRow<ulong>? r) ? r!.Vector! : throw new KeyNotFoundException());
            foreach ((ulong key, float[] vector) in written)
            {
                float[] read = sealedVectors[key];
                if (storage == VectorStorage.Float32)
                {
                    Assert.Equal(vector, read);
                    continue;
                }
                float scale = vector.Max(Math.Abs) / 127f;
                for (int i = 0; i < Dimension; i++)
                {
                    Assert.True(Math.Abs(vector[i] - read[i]) <= scale / 2.0 + Math.Abs(read[i]) * 1e-7, $"key {key} value {i}: {vector[i]} read as {read[i]} (scale {scale})");
                }
            }
            Assert.True(items.GetStats().Segments >= 4);
            db.Compact();
            Assert.Equal(1, items.GetStats().Segments);
        }
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, options, keys))
        {
            HammingCollection<ulong> items = db.GetCollection<ulong>("items");
            Assert.Equal(storage, items.VectorStorage);
            Assert.Equal(storage, db.Collections.Single().VectorStorage);
            foreach ((ulong key, float[] vector) in sealedVectors)
            {
                // Int8 rows are copied as stored: bit for bit the same after compaction.
                Assert.True(items.TryGet(key, out StoredRow<ulong>? row));
                Assert.Equal(vector, row!.Vector);
            }
        }
        Assert.True(HammingDatabase.Check(fs, Dir, keys).Ok);
    }

    [Fact]
    public void Bad_arguments_are_refused_naming_the_problem()
    {
        using HammingDatabase db = HammingDatabase.Open(new MemoryFileSystem(), Dir, DatabaseOptions.Default, new MemoryKeyIndexStore());
        HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64, VectorDimension = 3 });
        HammingCollection<ulong> plain = db.CreateCollection<ulong>("plain", new CollectionOptions { CodeBits = 64 });
        items.Upsert(1, [1UL], vector: [1f, 2f, 3f]);
        ulong[] code = [1UL];
        float[] vector = [1f, 0f, 0f];

        Assert.Contains("stores no vectors", Assert.Throws<ArgumentException>(() => plain.KnnRescored(code, [], 1, 1, VectorMetric.L2)).Message);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => items.KnnRescored(code, vector, 0, 1, VectorMetric.L2)).ParamName);
        Assert.Equal("oversample", Assert.Throws<ArgumentOutOfRangeException>(() => items.KnnRescored(code, vector, 1, 0, VectorMetric.L2)).ParamName);
        Assert.Equal("oversample", Assert.Throws<ArgumentOutOfRangeException>(() => items.KnnRescored(code, vector, 1 << 16, 1 << 16, VectorMetric.L2)).ParamName);
        Assert.Equal("metric", Assert.Throws<ArgumentOutOfRangeException>(() => items.KnnRescored(code, vector, 1, 1, (VectorMetric)9)).ParamName);
        Assert.Equal("vector", Assert.Throws<ArgumentException>(() => items.KnnRescored(code, [1f, 2f], 1, 1, VectorMetric.L2)).ParamName);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => items.KnnRescored(code, [1f, float.NaN, 0f], 1, 1, VectorMetric.Cosine)).Message);
        Assert.Contains("Infinity", Assert.Throws<ArgumentException>(() => items.KnnRescored(code, [float.PositiveInfinity, 0f, 0f], 1, 1, VectorMetric.Dot)).Message);
        Assert.Throws<ArgumentException>(() => items.KnnRescored([1UL, 2UL], vector, 1, 1, VectorMetric.L2));
        // The async form checks at once.
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = items.KnnRescoredAsync(code, vector, 0, 1, VectorMetric.L2); });

        // The largest k x oversample allowed is fine on a small collection; a zero query vector has cosine distance 1.
        RescoredResult<ulong> only = Assert.Single(items.KnnRescored(code, [0f, 0f, 0f], int.MaxValue, 1, VectorMetric.Cosine));
        Assert.Equal((1UL, 0, 1.0), (only.Key, only.HammingDistance, only.VectorDistance));
        Assert.Equal(-2.0, items.KnnRescored(code, [0f, 1f, 0f], 1, 1, VectorMetric.Dot).Single().VectorDistance);
        Assert.Equal(14.0, items.KnnRescored(code, [0f, 0f, 0f], 1, 1, VectorMetric.L2).Single().VectorDistance);
    }
}
