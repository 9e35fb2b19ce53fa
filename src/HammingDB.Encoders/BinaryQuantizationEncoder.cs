using System.Runtime.Intrinsics;
using HammingDB.Encoders.Internal;

namespace HammingDB.Encoders;

/// <summary>
/// Binary quantization: bit i is set iff x[i] &gt; t[i], one bit per dimension; the width is the
/// dimension rounded up to a multiple of 8 and the bits past the dimension are zero. The thresholds
/// are zero (sign), or the training sample's per-dimension mean or median.
/// </summary>
public sealed class BinaryQuantizationEncoder : VectorEncoder
{
    private readonly float[] _thresholds;

    internal BinaryQuantizationEncoder(EncoderSpec spec, float[] thresholds, long trainingRows)
    {
        if (spec.CodeBits != WidthFor(thresholds.Length))
        {
            throw new ArgumentException($"binary quantization of dimension {thresholds.Length} makes {WidthFor(thresholds.Length)}-bit codes, not {spec.CodeBits}");
        }
        Spec = spec;
        _thresholds = thresholds;
        TrainingRows = trainingRows;
    }

    /// <inheritdoc/>
    public override int Dimension => _thresholds.Length;

    /// <inheritdoc/>
    public override int CodeBits => Spec.CodeBits;

    /// <inheritdoc/>
    public override EncoderKind Kind => EncoderKind.BinaryQuantization;

    /// <inheritdoc/>
    public override EncoderSpec Spec { get; }

    /// <summary>The number of rows it was trained on.</summary>
    public long TrainingRows { get; }

    /// <summary>The threshold of each dimension.</summary>
    public ReadOnlySpan<float> Thresholds => _thresholds;

    /// <summary>The code width for <paramref name="dimension"/>: one bit each, rounded up to a multiple of 8.</summary>
    public static int WidthFor(int dimension) => (dimension + 7) / 8 * 8;

    internal static BinaryQuantizationEncoder Train(EncoderSpec spec, TrainingSet set, IProgress<TrainingProgress>? progress)
    {
        progress?.Report(new TrainingProgress("statistics", 0));
        float[] thresholds = spec.BinaryQuantization.Threshold switch
        {
            QuantizationThreshold.Mean => Statistics.Mean(set),
            QuantizationThreshold.Median => Statistics.Median(set),
            _ => new float[set.Dimension],
        };
        progress?.Report(new TrainingProgress("done", 1));
        return new BinaryQuantizationEncoder(spec with { CodeBits = WidthFor(set.Dimension) }, thresholds, set.Count);
    }

    /// <inheritdoc/>
    protected override void EncodeCore(ReadOnlySpan<float> vector, Span<ulong> code)
    {
        code.Clear();
        ReadOnlySpan<float> thresholds = _thresholds;
        int i = 0;
        for (; i + 8 <= vector.Length; i += 8)
        {
            uint above = Vector256.GreaterThan(Vector256.Create(vector.Slice(i, 8)), Vector256.Create(thresholds.Slice(i, 8))).ExtractMostSignificantBits();
            code[i >> 6] |= (ulong)above << (i & 63);
        }
        for (; i < vector.Length; i++)
        {
            if (vector[i] > thresholds[i])
            {
                code[i >> 6] |= 1UL << (i & 63);
            }
        }
    }
}
