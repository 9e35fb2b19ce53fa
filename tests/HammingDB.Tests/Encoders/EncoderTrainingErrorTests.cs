using HammingDB.Encoders;
using Xunit.Abstractions;

namespace HammingDB.Tests.Encoders;

/// <summary>Every bad input to training and encoding: an ArgumentException whose message names the problem, and nothing returned.</summary>
public class EncoderTrainingErrorTests(ITestOutputHelper output)
{
    private const int Dimension = 6;

    private static TrainingSet Sample(int rows, bool labels = true)
    {
        var random = new Random(61);
        float[] vectors = EncoderTestData.GaussianVectors(random, rows, Dimension);
        return new TrainingSet(vectors, Dimension, labels ? Enumerable.Range(0, rows).Select(i => i % 3).ToArray() : null);
    }

    private static void Refused(EncoderSpec spec, TrainingSet set, string expected)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => EncoderTraining.Train(spec, set));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(EncoderKind.Lsh, 0)]
    [InlineData(EncoderKind.Lsh, 12)]
    [InlineData(EncoderKind.Itq, -8)]
    [InlineData(EncoderKind.Grh, 8200)]
    [InlineData(EncoderKind.Itq, 4)]
    public void A_width_that_is_not_a_multiple_of_8_from_8_to_8192_is_refused(EncoderKind kind, int bits)
    {
        output.WriteLine("seed 61");
        Refused(new EncoderSpec(kind, bits), Sample(100), $"spec.CodeBits is {bits}; a code width is a multiple of 8 from 8 to 8192");
    }

    [Fact]
    public void Binary_quantization_takes_width_0_or_its_dimensions_and_it_and_ITQ_take_at_most_8192_dimensions()
    {
        output.WriteLine("seed 61");
        Refused(new EncoderSpec(EncoderKind.BinaryQuantization, 16), Sample(10), "spec.CodeBits is 16; binary quantization of dimension 6 makes 8-bit codes (pass 0 or 8)");
        Assert.Equal(8, EncoderTraining.Train(new EncoderSpec(EncoderKind.BinaryQuantization, 8), Sample(10)).CodeBits);
        Refused(new EncoderSpec(EncoderKind.BinaryQuantization, 0), new TrainingSet(new float[8193], 8193), "would make 8200-bit codes; the widest is 8192");
        Refused(new EncoderSpec(EncoderKind.Itq, 64), new TrainingSet(ReadOnlyMemory<float>.Empty, 8193), "ITQ takes at most 8192 dimensions");
    }

    [Fact]
    public void NaN_or_infinity_is_refused_naming_its_row_and_column()
    {
        output.WriteLine("seed 61");
        foreach (EncoderKind kind in Enum.GetValues<EncoderKind>())
        {
            foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                TrainingSet set = Sample(40);
                float[] vectors = set.Vectors.ToArray();
                vectors[(17 * Dimension) + 4] = bad;
                var damaged = new TrainingSet(vectors, Dimension, set.Labels?.ToArray());
                Refused(new EncoderSpec(kind, kind == EncoderKind.BinaryQuantization ? 0 : 8), damaged, $"training row 17, column 4 is {bad}");
            }
        }
    }

    [Fact]
    public void Too_few_rows_are_refused_stating_the_minimum()
    {
        output.WriteLine("seed 61");
        Refused(new EncoderSpec(EncoderKind.Itq, 32), Sample(31), "31 training rows; ITQ at 32 bits (PCA and the rotation need a row per bit) needs at least 32");
        Refused(new EncoderSpec(EncoderKind.Itq, 8), Sample(1), "1 training rows; ITQ at 8 bits (PCA and the rotation need a row per bit) needs at least 8");
        Refused(new EncoderSpec(EncoderKind.Lsh, 8) { Lsh = new LshOptions { Center = true } }, Sample(0), "0 training rows; centered LSH needs at least 1");
        Refused(new EncoderSpec(EncoderKind.BinaryQuantization, 0) { BinaryQuantization = new BinaryQuantizationOptions { Threshold = QuantizationThreshold.Median } },
            Sample(0), "0 training rows; binary quantization by median needs at least 1");
        Refused(new EncoderSpec(EncoderKind.Grh, 8), Sample(1), "1 training rows; GRH needs at least 2");
        Assert.Equal(32, EncoderTraining.Train(new EncoderSpec(EncoderKind.Itq, 32), Sample(32)).CodeBits);
        Assert.Equal((0, 1, 1, 32, 2), (
            EncoderTraining.MinimumRows(new EncoderSpec(EncoderKind.Lsh, 8)),
            EncoderTraining.MinimumRows(new EncoderSpec(EncoderKind.Lsh, 8) { Lsh = new LshOptions { Center = true } }),
            EncoderTraining.MinimumRows(new EncoderSpec(EncoderKind.BinaryQuantization, 0) { BinaryQuantization = new BinaryQuantizationOptions { Threshold = QuantizationThreshold.Mean } }),
            EncoderTraining.MinimumRows(new EncoderSpec(EncoderKind.Itq, 32)),
            EncoderTraining.MinimumRows(new EncoderSpec(EncoderKind.Grh, 64))));
    }

    [Fact]
    public void GRH_without_labels_or_with_one_class_is_refused()
    {
        output.WriteLine("seed 61");
        Refused(new EncoderSpec(EncoderKind.Grh, 8), Sample(20, labels: false), "GRH is supervised: the training set has no labels");
        TrainingSet set = Sample(20);
        Refused(new EncoderSpec(EncoderKind.Grh, 8), new TrainingSet(set.Vectors, Dimension, Enumerable.Repeat(4, 20).ToArray()),
            "GRH needs at least two classes; every label of the training set is 4");
    }

    [Fact]
    public void Bad_options_are_refused_naming_the_option()
    {
        output.WriteLine("seed 61");
        TrainingSet set = Sample(50);
        Refused(new EncoderSpec(EncoderKind.Grh, 8) { Grh = new GrhOptions { Alpha = 1.5 } }, set, "spec.Grh.Alpha is 1.5");
        Refused(new EncoderSpec(EncoderKind.Grh, 8) { Grh = new GrhOptions { Alpha = double.NaN } }, set, "spec.Grh.Alpha is NaN");
        Refused(new EncoderSpec(EncoderKind.Grh, 8) { Grh = new GrhOptions { Iterations = 0 } }, set, "spec.Grh.Iterations is 0");
        Refused(new EncoderSpec(EncoderKind.Grh, 8) { Grh = new GrhOptions { Epochs = 0 } }, set, "spec.Grh.Epochs is 0");
        Refused(new EncoderSpec(EncoderKind.Grh, 8) { Grh = new GrhOptions { LearningRate = 0 } }, set, "spec.Grh.LearningRate is 0");
        Refused(new EncoderSpec(EncoderKind.Grh, 8) { Grh = new GrhOptions { Regularization = -1 } }, set, "spec.Grh.Regularization is -1");
        Refused(new EncoderSpec(EncoderKind.Itq, 8) { Itq = new ItqOptions { Iterations = -1 } }, set, "spec.Itq.Iterations is -1");
        Refused(new EncoderSpec(EncoderKind.Itq, 8) { Itq = null! }, set, "spec.Itq is null");
        Refused(new EncoderSpec(EncoderKind.BinaryQuantization, 0) { BinaryQuantization = new BinaryQuantizationOptions { Threshold = (QuantizationThreshold)7 } },
            set, "spec.BinaryQuantization.Threshold 7 is not a threshold kind");
        Refused(new EncoderSpec((EncoderKind)9, 8), set, "spec.Kind 9 is not an encoder kind");
        Assert.Throws<ArgumentNullException>(() => EncoderTraining.Train(null!, set));
        Assert.Throws<ArgumentNullException>(() => EncoderTraining.Train(new EncoderSpec(EncoderKind.Lsh, 8), null!));
    }

    [Fact]
    public void A_training_set_of_the_wrong_shape_is_refused_naming_the_row()
    {
        output.WriteLine("seed 61");
        Assert.Contains("10 floats do not make whole rows of dimension 4",
            Assert.Throws<ArgumentException>(() => new TrainingSet(new float[10], 4)).Message, StringComparison.Ordinal);
        Assert.Contains("dimension 0 is out of range 1..65536",
            Assert.Throws<ArgumentException>(() => new TrainingSet(new float[10], 0)).Message, StringComparison.Ordinal);
        Assert.Contains("3 labels for 2 rows",
            Assert.Throws<ArgumentException>(() => new TrainingSet(new float[8], 4, new[] { 1, 2, 3 })).Message, StringComparison.Ordinal);
        Assert.Contains("rows[2] has dimension 3; rows[0] has 4",
            Assert.Throws<ArgumentException>(() => TrainingSet.FromRows([new float[4], new float[4], new float[3]])).Message, StringComparison.Ordinal);
        TrainingSet fromRows = TrainingSet.FromRows([[1, 2], [3, 4]], [5, 6]);
        Assert.Equal((2, 2), (fromRows.Count, fromRows.Dimension));
        Assert.Equal([3f, 4], fromRows.Row(1).ToArray());
        Assert.Equal([5, 6], fromRows.Labels!.Value.ToArray());
    }

    [Fact]
    public void Encoding_a_vector_of_the_wrong_dimension_or_with_NaN_is_refused_naming_it()
    {
        output.WriteLine("seed 61");
        VectorEncoder encoder = EncoderTraining.Train(new EncoderSpec(EncoderKind.Lsh, 64), Sample(0));
        var code = new ulong[1];
        Assert.Contains("vector has dimension 5; this encoder takes 6",
            Assert.Throws<ArgumentException>(() => encoder.Encode(new float[5], code)).Message, StringComparison.Ordinal);
        Assert.Contains("vectors[1][2] is NaN",
            Assert.Throws<ArgumentException>(() => encoder.EncodeMany(new float[] { 0, 0, 0, 0, 0, 0, 0, 0, float.NaN, 0, 0, 0 }, 2)).Message, StringComparison.Ordinal);
        Assert.Contains("the code span holds 2 words",
            Assert.Throws<ArgumentException>(() => encoder.Encode(new float[6], new ulong[2])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cancellation_stops_training_between_iterations_and_progress_reaches_done()
    {
        const ulong seed = 62;
        output.WriteLine($"seed {seed}");
        TrainingSet set = Sample(200);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => EncoderTraining.Train(new EncoderSpec(EncoderKind.Lsh, 8, seed), set, null, cancelled.Token));

        foreach ((EncoderKind kind, string stage) in new[] { (EncoderKind.Itq, "rotation"), (EncoderKind.Grh, "classifiers") })
        {
            using var source = new CancellationTokenSource();
            var progress = new EncoderTestData.ProgressLog(p =>
            {
                if (p.Stage == stage)
                {
                    source.Cancel();
                }
            });
            Assert.ThrowsAny<OperationCanceledException>(() => EncoderTraining.Train(new EncoderSpec(kind, 8, seed), set, progress, source.Token));
            Assert.DoesNotContain(progress.Reports, r => r.Stage == "done");

            var complete = new EncoderTestData.ProgressLog();
            EncoderTraining.Train(new EncoderSpec(kind, 8, seed), set, complete);
            Assert.Equal(("done", 1.0), (complete.Reports[^1].Stage, complete.Reports[^1].Fraction));
            for (int i = 1; i < complete.Reports.Count; i++)
            {
                Assert.True(complete.Reports[i].Fraction >= complete.Reports[i - 1].Fraction, $"{kind}: progress went back at report {i}");
            }
        }
    }
}
