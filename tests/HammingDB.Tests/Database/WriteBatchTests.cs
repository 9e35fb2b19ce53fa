using HammingDB.Kernels;
using HammingDB.Keys;
using HammingDB.Storage;
using HammingDB.Writing;

namespace HammingDB.Tests.Database;

public class WriteBatchTests
{
    private static readonly CollectionShape Shape = new(new CodeLayout(24), HasPayloads: true, VectorDimension: 2);

    [Fact]
    public void Golden_bytes_of_a_batch()
    {
        var batch = new WriteBatch(3, Shape);
        batch.Upsert(UInt64Codec.Encode(7), [0xABCDEFUL], [0x42], hasPayload: true, [1f, -2f]);
        batch.Delete(UInt64Codec.Encode(9));
        batch.Insert(UInt64Codec.Encode(5), [0x010203UL], [], hasPayload: true, [0f, 1f]);
        string expected = string.Concat(
            "03000000", "03000000",
            "01", "0800", "0000000000000007", "efcdab", "01000000", "42", "0000803f", "000000c0",
            "02", "0800", "0000000000000009",
            "03", "0800", "0000000000000005", "030201", "00000000", "00000000", "0000803f");
        Assert.Equal(expected, Convert.ToHexString(batch.Encode()).ToLowerInvariant());
    }

    [Fact]
    public void Batches_round_trip()
    {
        var random = new Random(41);
        var shape = new CollectionShape(new CodeLayout(200), HasPayloads: true, VectorDimension: 3);
        var batch = new WriteBatch(12, shape);
        var expected = new List<BatchEntry>();
        for (int i = 0; i < 300; i++)
        {
            byte[] key = StringCodec.Encode($"k{i}");
            if (i % 5 == 4)
            {
                batch.Delete(key);
                expected.Add(new BatchEntry(BatchOperation.Delete, key, null, null, null));
                continue;
            }
            ulong[] code = TestData.RandomCode(random, shape.Layout);
            byte[] payload = new byte[i % 17];
            random.NextBytes(payload);
            float[] vector = [i, -i, 0.5f];
            batch.Upsert(key, code, payload, hasPayload: true, vector);
            expected.Add(new BatchEntry(BatchOperation.Upsert, key, code, payload, vector));
        }
        byte[] encoded = batch.Encode().ToArray();
        Assert.Equal(12u, WriteBatch.PeekCollection(encoded, "/db/wal", 32));
        List<BatchEntry> decoded = WriteBatch.Decode(encoded, shape, "/db/wal", 32);
        Assert.Equal(expected.Count, decoded.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Operation, decoded[i].Operation);
            Assert.Equal(expected[i].Key, decoded[i].Key);
            Assert.Equal(expected[i].Code, decoded[i].Code);
            Assert.Equal(expected[i].Payload, decoded[i].Payload);
            Assert.Equal(expected[i].Vector, decoded[i].Vector);
        }
        for (int cut = 0; cut < encoded.Length; cut += 7)
        {
            Assert.Throws<CorruptionException>(() => WriteBatch.Decode(encoded.AsSpan(0, cut), shape, "/db/wal", 32));
        }
    }

    [Fact]
    public void Bad_rows_are_refused_and_leave_the_batch_as_it_was()
    {
        var batch = new WriteBatch(1, Shape);
        byte[] key = UInt64Codec.Encode(1);
        byte[] before = batch.Encode().ToArray();
        Assert.Throws<ArgumentException>(() => batch.Upsert(key, [1UL << 30], [1], true, [0f, 0f]));       // bits past 24
        Assert.Throws<ArgumentException>(() => batch.Upsert(key, [1UL, 2UL], [1], true, [0f, 0f]));        // two words
        Assert.Throws<ArgumentException>(() => batch.Upsert(key, [1UL], [], false, [0f, 0f]));            // payload missing
        Assert.Throws<ArgumentException>(() => batch.Upsert(key, [1UL], [1], true, [0f]));               // dimension
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => batch.Upsert(key, [1UL], [1], true, [0f, float.NaN])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => batch.Upsert(key, [1UL], [1], true, [float.PositiveInfinity, 0f]));
        Assert.Throws<ArgumentException>(() => batch.Upsert(key, [1UL], new byte[WriteBatch.MaxPayloadBytes + 1], true, [0f, 0f]));
        Assert.Equal(0, batch.Count);
        Assert.Equal(before, batch.Encode().ToArray());
    }
}
