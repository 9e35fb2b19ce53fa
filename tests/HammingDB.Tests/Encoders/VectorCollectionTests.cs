using HammingDB.Encoders;
using Xunit.Abstractions;

namespace HammingDB.Tests.Encoders;

/// <summary>Vector collections: the encoder stored inside its collection, float inserts and queries, rescoring, reopen.</summary>
public sealed class VectorCollectionTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hdb-vectors-" + Guid.NewGuid().ToString("N"), "db");

    public void Dispose()
    {
        string parent = Path.GetDirectoryName(_dir)!;
        if (Directory.Exists(parent))
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    private static float[] Vectors(Random random, int count, int dimension)
    {
        var values = new float[count * dimension];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1 + (i / dimension % 4)); // four loose groups
        }
        return values;
    }

    [Theory]
    [InlineData(EncoderKind.Lsh, 64, VectorStorage.Float32, 1)]
    [InlineData(EncoderKind.Itq, 32, VectorStorage.Int8, 2)]
    public void Float_rows_and_queries_go_through_the_stored_encoder_before_and_after_reopen(EncoderKind kind, int bits, VectorStorage storage, int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        const int dimension = 40, rows = 3000;
        float[] data = Vectors(random, rows, dimension);
        VectorEncoder encoder = EncoderTraining.Train(new EncoderSpec(kind, bits, (ulong)seed), new TrainingSet(data.AsMemory(0, 1000 * dimension), dimension));
        var options = new DatabaseOptions { SealRows = 1000, MihMinRows = 500, BackgroundCompaction = false };
        ulong[] keys = [.. Enumerable.Range(0, rows).Select(i => (ulong)i)];
        float[] query = Vectors(random, 1, dimension);

        List<SearchResult<ulong>> before;
        List<RescoredResult<ulong>> rescoredBefore;
        using (HammingDatabase db = HammingDatabase.Open(_dir, options))
        {
            VectorCollection<ulong> items = VectorCollection.Create<ulong>(db, "items", encoder, storage);
            items.UpsertMany(keys[..2000], data.AsSpan(0, 2000 * dimension));
            for (int i = 2000; i < rows; i++)
            {
                items.Upsert(keys[i], data.AsSpan(i * dimension, dimension));
            }
            Assert.True(items.Delete(7));

            // Hamming kNN over the stored codes equals brute force over the encoder's codes.
            ulong[] codes = encoder.EncodeMany(data, rows);
            ulong[] queryCode = encoder.EncodeMany(query, 1);
            int words = encoder.Layout.WordsPerCode;
            var expected = Enumerable.Range(0, rows).Where(i => i != 7)
                .Select(i => new SearchResult<ulong>((ulong)i, TestData.OracleDistance(codes.AsSpan(i * words, words).ToArray(), queryCode)))
                .OrderBy(r => r.Distance).ThenBy(r => r.Key).Take(25).ToList();
            before = [.. items.Knn(query, 25)];
            Assert.Equal(expected, before);
            rescoredBefore = [.. items.KnnRescored(query, 10, 5)];
            Assert.Equal(10, rescoredBefore.Count);
            Assert.All(rescoredBefore, r => Assert.Contains(items.Knn(query, 50), h => h.Key == r.Key));
        }
        using (HammingDatabase db = HammingDatabase.Open(_dir, options))
        {
            VectorCollection<ulong> items = VectorCollection.Open<ulong>(db, "items");
            Assert.Equal(encoder.Serialize(), items.Encoder.Serialize());
            Assert.Equal(before, items.Knn(query, 25));
            Assert.Equal(rescoredBefore, items.KnnRescored(query, 10, 5));
            Assert.Equal(encoder.EncodeMany(query, 1), items.Encode(query));
        }
    }

    [Fact]
    public void Bad_vectors_and_mismatched_collections_are_refused_naming_the_problem()
    {
        const int seed = 3;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        VectorEncoder encoder = EncoderTraining.Train(new EncoderSpec(EncoderKind.Lsh, 16, seed), new TrainingSet(Vectors(random, 10, 8), 8));
        using HammingDatabase db = HammingDatabase.Open(_dir, new DatabaseOptions { BackgroundCompaction = false });
        VectorCollection<ulong> items = VectorCollection.Create<ulong>(db, "items", encoder);
        items.Upsert(1, Vectors(random, 1, 8));

        float[] bad = Vectors(random, 3, 8);
        bad[(2 * 8) + 5] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => items.UpsertMany([10UL, 11UL, 12UL], bad));
        Assert.Contains("vectors[2][5]", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, items.Codes.Count); // nothing of the batch was written
        Assert.Contains("dimension 7", Assert.Throws<ArgumentException>(() => items.Upsert(2, new float[7])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => items.Knn([1, 2, 3, 4, 5, 6, 7, float.PositiveInfinity], 3));

        // A collection without vectors, or of another width, cannot take the encoder.
        HammingCollection<ulong> plain = db.CreateCollection<ulong>("plain", new CollectionOptions { CodeBits = 16 });
        Assert.Contains("keeps no vectors", Assert.Throws<ArgumentException>(() => VectorCollection.Attach(plain, encoder)).Message, StringComparison.Ordinal);
        HammingCollection<ulong> wide = db.CreateCollection<ulong>("wide", new CollectionOptions { CodeBits = 64, VectorDimension = 8 });
        Assert.Contains("64-bit", Assert.Throws<ArgumentException>(() => VectorCollection.Attach(wide, encoder)).Message, StringComparison.Ordinal);
        Assert.Contains("has no encoder", Assert.Throws<InvalidOperationException>(() => VectorCollection.Open<ulong>(db, "plain")).Message, StringComparison.Ordinal);

        // An encoder is attached to an empty collection; a filled one keeps the encoder its codes came from.
        HammingCollection<ulong> fresh = db.CreateCollection<ulong>("fresh", new CollectionOptions { CodeBits = 16, VectorDimension = 8 });
        VectorCollection<ulong> attached = VectorCollection.Attach(fresh, encoder);
        attached.Upsert(5, Vectors(random, 1, 8));
        Assert.Throws<InvalidOperationException>(() => VectorCollection.Attach(fresh, encoder));

        // A damaged stored encoder is named with its collection.
        byte[] damaged = encoder.Serialize();
        damaged[^1] ^= 1;
        items.Codes.SetAttachment(VectorCollection.EncoderAttachment, damaged);
        Assert.Contains("collection items", Assert.Throws<InvalidDataException>(() => VectorCollection.Open<ulong>(db, "items")).Message, StringComparison.Ordinal);
    }
}
