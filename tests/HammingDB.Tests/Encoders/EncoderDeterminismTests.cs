using HammingDB.Encoders;
using HammingDB.Kernels;
using Xunit.Abstractions;

namespace HammingDB.Tests.Encoders;

/// <summary>Every encoder: same bytes for a seed, codes of the right width with zero padding, and the same codes after a round trip.</summary>
public class EncoderDeterminismTests(ITestOutputHelper output)
{
    public static TheoryData<EncoderKind, int, int> Cases() => new()
    {
        { EncoderKind.Lsh, 24, 8 },
        { EncoderKind.Lsh, 24, 200 },
        { EncoderKind.Lsh, 40, 1096 },
        { EncoderKind.BinaryQuantization, 21, 0 },
        { EncoderKind.BinaryQuantization, 130, 0 },
        { EncoderKind.Itq, 24, 16 },
        { EncoderKind.Itq, 24, 72 },
        { EncoderKind.Itq, 40, 128 },
        { EncoderKind.Grh, 24, 8 },
        { EncoderKind.Grh, 40, 72 },
    };

    private static EncoderSpec Spec(EncoderKind kind, int bits, ulong seed) => new EncoderSpec(kind, bits, seed) with
    {
        Lsh = new LshOptions { Center = true },
        BinaryQuantization = new BinaryQuantizationOptions { Threshold = QuantizationThreshold.Median },
        Itq = new ItqOptions { Iterations = 10 },
        Grh = new GrhOptions { Iterations = 2, Epochs = 3 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Training_is_deterministic_codes_are_padded_with_zeros_and_a_round_trip_keeps_every_code(EncoderKind kind, int dimension, int bits)
    {
        ulong seed = (ulong)(1000 + dimension + bits);
        output.WriteLine($"seed {seed}");
        var random = new Random((int)seed);
        (float[] vectors, int[] labels) = EncoderTestData.PlantedClusters(random, 300, dimension, 5, dimension / 2, 2, 1);
        var set = new TrainingSet(vectors, dimension, labels);

        VectorEncoder first = EncoderTraining.Train(Spec(kind, bits, seed), set);
        VectorEncoder second = EncoderTraining.Train(Spec(kind, bits, seed), set);
        byte[] bytes = first.Serialize();
        Assert.Equal(bytes, second.Serialize());
        if (kind != EncoderKind.BinaryQuantization)
        {
            Assert.NotEqual(bytes, EncoderTraining.Train(Spec(kind, bits, seed + 1), set).Serialize());
        }

        int expectedBits = kind == EncoderKind.BinaryQuantization ? (dimension + 7) / 8 * 8 : bits;
        Assert.Equal((kind, dimension, expectedBits), (first.Kind, first.Dimension, first.CodeBits));
        Assert.Equal(Spec(kind, bits, seed).Seed, first.Spec!.Seed);

        // Fresh vectors, of which some lie far out, so that every bit has a chance to be set.
        const int fresh = 64;
        float[] queries = EncoderTestData.GaussianVectors(random, fresh, dimension, scale: 4);
        ulong[] codes = first.EncodeMany(queries, fresh);
        var layout = new CodeLayout(expectedBits);
        Assert.Equal(fresh * layout.WordsPerCode, codes.Length);
        var one = new ulong[layout.WordsPerCode];
        for (int i = 0; i < fresh; i++)
        {
            ReadOnlySpan<ulong> code = codes.AsSpan(i * layout.WordsPerCode, layout.WordsPerCode);
            Assert.Equal(0UL, code[^1] & ~layout.LastWordMask);
            layout.Validate(code, "code");
            first.Encode(queries.AsSpan(i * dimension, dimension), one);
            Assert.Equal(code.ToArray(), one);
        }

        VectorEncoder reloaded = VectorEncoder.Deserialize(bytes);
        Assert.Equal(first.GetType(), reloaded.GetType());
        Assert.Equal(first.Spec, reloaded.Spec);
        Assert.Equal(codes, reloaded.EncodeMany(queries, fresh));
        Assert.Equal(bytes, reloaded.Serialize());
    }

    /// <summary>A batch large enough to be encoded on several threads gives the codes of one-by-one encoding.</summary>
    [Fact]
    public void A_parallel_batch_encodes_as_one_vector_at_a_time()
    {
        const ulong seed = 51;
        output.WriteLine($"seed {seed}");
        const int rows = 3000, dimension = 64, bits = 256;
        float[] vectors = EncoderTestData.GaussianVectors(new Random((int)seed), rows, dimension);
        var encoder = EncoderTraining.Train(new EncoderSpec(EncoderKind.Lsh, bits, seed), new TrainingSet(ReadOnlyMemory<float>.Empty, dimension));
        ulong[] batch = encoder.EncodeMany(vectors, rows);
        var code = new ulong[4];
        for (int i = 0; i < rows; i++)
        {
            encoder.Encode(vectors.AsSpan(i * dimension, dimension), code);
            Assert.True(code.AsSpan().SequenceEqual(batch.AsSpan(i * 4, 4)), $"row {i}");
        }
    }
}
