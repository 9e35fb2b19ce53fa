using System.Buffers.Binary;
using HammingDB.Cli;
using HammingDB.Encoders;
using HammingDB.Encoders.Data;
using HammingDB.Kernels;
using HammingDB.Storage;

namespace HammingDB.Fuzz;

/// <summary>
/// The seed corpus: small valid files of every kind, made by the writers themselves (a tiny database
/// in memory for the storage files), deterministic. Written by <c>HammingDB.Fuzz seeds fuzz/corpus</c>.
/// </summary>
internal static class SeedCorpus
{
    private const string Dir = "/db";

    public static IEnumerable<(string Target, string Name, byte[] Bytes)> Build()
    {
        byte[] encoder = EncoderTraining.Train(new EncoderSpec(EncoderKind.Lsh, 64, Seed: 3), new TrainingSet(ReadOnlyMemory<float>.Empty, 4)).Serialize();
        var fs = new MemoryFileSystem();
        var options = new DatabaseOptions { BackgroundCompaction = false, SealOnClose = false, MihMinRows = 16 };
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, options, new Storage.Keys.MemoryKeyIndexStore()))
        {
            var a = db.CreateCollection<ulong>("a", new CollectionOptions { CodeBits = 64, Payloads = true });
            var b = db.CreateCollection<string>("b", new CollectionOptions { CodeBits = 128, VectorDimension = 4 });
            var c = db.CreateCollection<Guid>("c", new CollectionOptions { CodeBits = 72, VectorDimension = 3, VectorStorage = VectorStorage.Int8 });
            for (int i = 0; i < 40; i++)
            {
                ulong x = (ulong)(i + 1) * 0x9E3779B97F4A7C15UL;
                a.Upsert((ulong)i + 1, [x], [(byte)i, 1]);
                if (i < 16)
                {
                    b.Upsert($"key{i:D2}", [x, ~x], vector: [i, -i, 0.5f, 1]);
                }
                if (i < 8)
                {
                    c.Upsert(new Guid(i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), [x, x & 0xFF], vector: [i, 2, -3]);
                }
            }
            a.SetAttachment("encoder", encoder);
            db.Flush();
            a.Delete(3);
            a.Delete(17);
            b.Delete("key05");
            db.Flush();
            a.Upsert(50, [50], [5]);
            b.Upsert("later", [1, 2], vector: [1, 2, 3, 4]);
            c.Delete(new Guid(1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
        }
        foreach (string name in fs.ListFiles(Dir).Order(StringComparer.Ordinal))
        {
            byte[] bytes = fs.ReadAllBytes(Path.Combine(Dir, name));
            string? target = name == FileNames.Manifest ? "manifest"
                : FileNames.TryParseSegment(name, out _) ? "segment"
                : FileNames.TryParseLog(name, out _) ? "log"
                : FileNames.TryParseDeletions(name, out _, out _) ? "deletions"
                : FileNames.TryParseAttachment(name, out _) ? "attachment"
                : null;
            if (target is not null && bytes.Length > 0)
            {
                yield return (target, name, bytes);
            }
        }

        yield return ("encoder", "lsh-64x4", encoder);
        yield return ("encoder", "lsh-128x8-centered", EncoderTraining.Train(new EncoderSpec(EncoderKind.Lsh, 128, Seed: 5) { Lsh = new LshOptions { Center = true } },
            new TrainingSet(Floats(64, 8), 8)).Serialize());
        yield return ("encoder", "bq-8", EncoderTraining.Train(new EncoderSpec(EncoderKind.BinaryQuantization, 8), new TrainingSet(Floats(64, 8), 8)).Serialize());
        yield return ("encoder", "itq-8x8", EncoderTraining.Train(new EncoderSpec(EncoderKind.Itq, 8) { Itq = new ItqOptions { Iterations = 2 } }, new TrainingSet(Floats(64, 8), 8)).Serialize());

        // Key index entries (KeyIndexTarget): u8 collection, u8 key length, key, u32 segment, i32 row.
        yield return ("keyindex", "right", KeyEntries(0, (1, 1, 2, 0), (1, 2, 2, 1), (1, 40, 2, 39)));
        yield return ("keyindex", "wrong-row", KeyEntries(0, (1, 1, 2, 5), (1, 2, 2, 100), (1, 3, 2, -1)));
        yield return ("keyindex", "wrong-segment", KeyEntries(0, (1, 7, 9, 0), (1, 8, 4, 0)));
        yield return ("keyindex", "stale", KeyEntries(1, (1, 1, 2, 0)));

        var codes = new ulong[] { 0x0123456789ABCDEF, 0, ulong.MaxValue };
        yield return ("hdbc", "three-64", Hdbc(64, codes));
        yield return ("hdbc", "one-256", Hdbc(256, [1, 2, 3, 4]));
        yield return ("hex", "plain", "efcdab8967452301\n0000000000000000\nffffffffffffffff\n"u8.ToArray());
        yield return ("hex", "keyed", "1\tefcdab8967452301\r\n2\t0000000000000000\n"u8.ToArray());
        yield return ("hex", "keyed-text", "a\u00e9b\t0102030405060708\n6ba7b810-9dad-11d1-80b4-00c04fd430c8\t0102030405060708"u8.ToArray());
        yield return ("ndjson", "rows", """
            {"key": 1, "code": "0102030405060708", "payload": "ff00"}
            {"key": "x", "code": "0102030405060708"}
            {"key": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "vector": [1, 2.5, -3e2, 0]}

            """u8.ToArray());
        yield return ("ndjson", "queries", """
            {"code": "0102030405060708"}
            {"vector": [1, 2, 3, 4], "note": [1, {"a": null}]}
            """u8.ToArray());

        FloatVectors vectors = new(Floats(5, 3), 3);
        yield return ("hdbf", "5x3", Written(path => DatasetFiles.WriteVectors(path, vectors, VectorFileFormat.Hdbf)));
        yield return ("hdbf", "5x3.gz", Written(path => DatasetFiles.WriteVectors(path, vectors, VectorFileFormat.Hdbf, compress: true)));
        yield return ("hdbf", "4-dim", Written(path => DatasetFiles.WriteVectors(path, new FloatVectors(Floats(2, 4), 4), VectorFileFormat.Hdbf)));
        yield return ("fvecs", "5x3", Written(path => DatasetFiles.WriteVectors(path, vectors, VectorFileFormat.Fvecs)));
        yield return ("fvecs", "2x4.gz", Written(path => DatasetFiles.WriteVectors(path, new FloatVectors(Floats(2, 4), 4), VectorFileFormat.Fvecs, compress: true)));
        var ints = new IntVectors([1, 2, 3, 4, 5, 6], 3);
        yield return ("ivecs", "2x3", Written(path => DatasetFiles.WriteIvecs(path, ints)));
        yield return ("ivecs", "2x3.gz", Written(path => DatasetFiles.WriteIvecs(path, ints, compress: true)));
        yield return ("labels", "four", Written(path => DatasetFiles.WriteLabels(path, [0, 1, 1, 7])));
        yield return ("labels", "four.gz", Written(path => DatasetFiles.WriteLabels(path, [0, 1, 1, 7], compress: true)));
        yield return ("gt", "2x3", Written(path => DatasetFiles.WriteGroundTruth(path, new GroundTruth([1, 2, 3, 4, 5, 6], 3))));
        yield return ("gt", "2x3.gz", Written(path => DatasetFiles.WriteGroundTruth(path, new GroundTruth([1, 2, 3, 4, 5, 6], 3), compress: true)));
    }

    private static float[] Floats(int rows, int dimension)
    {
        var values = new float[rows * dimension];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)Math.Sin(i * 1.7) * (i % 5 + 1);
        }
        return values;
    }

    private static byte[] KeyEntries(byte first, params (int Collection, ulong Key, uint Segment, int Row)[] entries)
    {
        var bytes = new List<byte> { first };
        foreach ((int collection, ulong key, uint segment, int row) in entries)
        {
            var entry = new byte[2 + 8 + 8];
            entry[0] = (byte)(collection - 1);
            entry[1] = 8;
            BinaryPrimitives.WriteUInt64BigEndian(entry.AsSpan(2), key);
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(10), segment);
            BinaryPrimitives.WriteInt32LittleEndian(entry.AsSpan(14), row);
            bytes.AddRange(entry);
        }
        return [.. bytes];
    }

    private static byte[] Hdbc(int bits, ulong[] words)
    {
        var layout = new CodeLayout(bits);
        var bytes = new byte[HdbcFile.HeaderBytes + words.Length * 8];
        HdbcFile.WriteHeader(bytes, bits, (ulong)(words.Length / layout.WordsPerCode));
        for (int i = 0; i < words.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(HdbcFile.HeaderBytes + 8 * i), words[i]);
        }
        return bytes;
    }

    private static byte[] Written(Action<string> write)
    {
        string path = Path.Combine(Path.GetTempPath(), $"hammingdb-seed-{Environment.ProcessId}");
        try
        {
            write(path);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
