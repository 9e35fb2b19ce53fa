using HammingDB.Encoders.Internal;
using MathNet.Numerics.LinearAlgebra;

namespace HammingDB.Encoders;

/// <summary>
/// Iterative quantization (Gong and Lazebnik): the training mean is subtracted, the vector projected
/// on the top principal components, rotated by the learned orthogonal R, and each coordinate's sign
/// is a bit. The projection and rotation are kept composed: bit i is set iff dot(w_i, x - m) &gt; 0.
/// When the width exceeds the dimension, every principal component is kept and a seeded random
/// matrix with orthonormal rows (dimension x width) expands them to the width before the rotation
/// is learned (see docs/format/encoder.md).
/// </summary>
public sealed class ItqEncoder : VectorEncoder
{
    internal ItqEncoder(EncoderSpec spec, LinearProjection projection, long trainingRows)
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
    public override EncoderKind Kind => EncoderKind.Itq;

    /// <inheritdoc/>
    public override EncoderSpec Spec { get; }

    /// <summary>The number of rows it was trained on.</summary>
    public long TrainingRows { get; }

    /// <summary>The principal components kept: min(dimension, width).</summary>
    public int PrincipalComponents => Math.Min(Dimension, CodeBits);

    internal LinearProjection Projection { get; }

    /// <summary>After training (not after deserialization): the quantization loss ||B - VR||_F^2 at the start and after each iteration.</summary>
    internal double[] LossHistory { get; init; } = [];

    /// <summary>After training (not after deserialization): the learned rotation R (width x width).</summary>
    internal Matrix<double>? Rotation { get; init; }

    /// <inheritdoc/>
    protected override void EncodeCore(ReadOnlySpan<float> vector, Span<ulong> code) => Projection.Encode(vector, code);
}
