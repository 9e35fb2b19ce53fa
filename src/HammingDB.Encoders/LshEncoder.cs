using HammingDB.Encoders.Internal;

namespace HammingDB.Encoders;

/// <summary>
/// Random-hyperplane LSH (SimHash): bit i is set iff dot(h_i, x - m) &gt; 0, with h_i drawn
/// i.i.d. standard normal from the seed and m the training mean (<see cref="LshOptions.Center"/>) or
/// zero. Through the origin, two vectors at angle theta differ in each bit with probability theta / pi.
/// </summary>
public sealed class LshEncoder : VectorEncoder
{
    internal LshEncoder(EncoderSpec spec, LinearProjection projection, long trainingRows)
    {
        Spec = spec;
        Projection = projection;
        TrainingRows = trainingRows;
    }

    /// <inheritdoc/>
    public override int Dimension => Projection.Dimension;

    /// <inheritdoc/>
    public override int CodeBits => Projection.CodeBits;

    /// <inheritdoc/>
    public override EncoderKind Kind => EncoderKind.Lsh;

    /// <inheritdoc/>
    public override EncoderSpec Spec { get; }

    /// <summary>The number of rows it was trained on.</summary>
    public long TrainingRows { get; }

    internal LinearProjection Projection { get; }

    /// <summary>
    /// Draws the hyperplanes (bit-major, standard normal) of the seed: LSH's, and GRH's starting codes.
    /// </summary>
    internal static float[] DrawHyperplanes(ulong seed, int codeBits, int dimension)
    {
        var random = new SeededRandom(seed, SeededRandom.HyperplaneStream);
        var weights = new float[(long)codeBits * dimension];
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = (float)random.NextGaussian();
        }
        return weights;
    }

    internal static LshEncoder Train(EncoderSpec spec, TrainingSet set, IProgress<TrainingProgress>? progress)
    {
        progress?.Report(new TrainingProgress("statistics", 0));
        float[] mean = spec.Lsh.Center ? Statistics.Mean(set) : new float[set.Dimension];
        progress?.Report(new TrainingProgress("hyperplanes", 0.5));
        float[] weights = DrawHyperplanes(spec.Seed, spec.CodeBits, set.Dimension);
        var projection = new LinearProjection(set.Dimension, spec.CodeBits, mean, weights, new float[spec.CodeBits]);
        progress?.Report(new TrainingProgress("done", 1));
        return new LshEncoder(spec, projection, set.Count);
    }

    /// <inheritdoc/>
    protected override void EncodeCore(ReadOnlySpan<float> vector, Span<ulong> code) => Projection.Encode(vector, code);
}
