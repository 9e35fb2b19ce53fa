using HammingDB.Encoders.Internal;

namespace HammingDB.Encoders;

/// <summary>
/// Graph Regularised Hashing (Moran and Lavrenko): one learned hyperplane per bit. Training starts
/// from LSH codes of the training rows and, for <see cref="GrhOptions.Iterations"/> rounds, smooths
/// each row's code over the label graph (rows with equal labels are neighbours), fits one linear
/// SVM per bit to the smoothed bits, and re-hashes the rows with them. The features are the rows
/// centered and scaled (per dimension, by the standard deviation times sqrt(dimension)); that map
/// is folded into the stored hyperplanes, so bit i is set iff dot(w_i, x - m) &gt; t_i.
/// </summary>
public sealed class GrhEncoder : VectorEncoder
{
    internal GrhEncoder(EncoderSpec spec, LinearProjection projection, long trainingRows)
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
    public override EncoderKind Kind => EncoderKind.Grh;

    /// <inheritdoc/>
    public override EncoderSpec Spec { get; }

    /// <summary>The number of rows it was trained on.</summary>
    public long TrainingRows { get; }

    internal LinearProjection Projection { get; }

    /// <summary>After training (not after deserialization): the fraction of training bits that changed in each round's re-hash.</summary>
    internal double[] ChangedBits { get; init; } = [];

    /// <inheritdoc/>
    protected override void EncodeCore(ReadOnlySpan<float> vector, Span<ulong> code) => Projection.Encode(vector, code);
}
