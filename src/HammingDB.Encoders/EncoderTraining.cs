using HammingDB.Encoders.Internal;
using HammingDB.Kernels;

namespace HammingDB.Encoders;

/// <summary>Trains encoders from a sample.</summary>
public static class EncoderTraining
{
    /// <summary>The most floats an encoder's hyperplanes may hold (width x dimension): 2^28, 1 GiB.</summary>
    public const long MaxProjectionFloats = 1L << 28;

    /// <summary>The largest dimension ITQ takes: its covariance is dimension^2 doubles (512 MiB at 8192) and is eigendecomposed whole.</summary>
    public const int MaxItqDimension = 8192;

    /// <summary>
    /// The fewest training rows <paramref name="spec"/> needs: LSH 0 (1 when centering), binary
    /// quantization 0 by sign and 1 by mean or median, ITQ max(2, width) (PCA and the rotation need as
    /// many rows as bits), GRH 2 (and at least two distinct labels).
    /// </summary>
    public static int MinimumRows(EncoderSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Kind switch
        {
            EncoderKind.Lsh => spec.Lsh?.Center == true ? 1 : 0,
            EncoderKind.BinaryQuantization => spec.BinaryQuantization?.Threshold is QuantizationThreshold.Sign ? 0 : 1,
            EncoderKind.Itq => Math.Max(2, spec.CodeBits),
            EncoderKind.Grh => 2,
            _ => 0,
        };
    }

    /// <summary>
    /// Trains the encoder <paramref name="spec"/> describes on <paramref name="set"/>. Everything is
    /// checked before any work; a failure returns nothing. Deterministic: equal specs and data give
    /// byte-identical <see cref="VectorEncoder.Serialize"/> output (on the same runtime).
    /// </summary>
    /// <param name="spec">The method, width, seed and options.</param>
    /// <param name="set">The sample (with labels for GRH).</param>
    /// <param name="progress">Told the stage and fraction done, from the calling thread; ITQ also reports its loss.</param>
    /// <param name="cancellation">Checked between steps, iterations and epochs.</param>
    /// <exception cref="ArgumentException">
    /// A bad width (not a multiple of 8, out of 8..8192, or not the dimension's for binary
    /// quantization), a bad option, too few rows, a NaN or infinity (its row and column named),
    /// missing labels or a single class for GRH.
    /// </exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static VectorEncoder Train(EncoderSpec spec, TrainingSet set, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(set);
        Check(spec, set);
        cancellation.ThrowIfCancellationRequested();
        EncoderSpec own = spec.OwnOptionsOnly();
        return spec.Kind switch
        {
            EncoderKind.Lsh => LshEncoder.Train(own, set, progress),
            EncoderKind.BinaryQuantization => BinaryQuantizationEncoder.Train(own, set, progress),
            EncoderKind.Itq => ItqTrainer.Train(own, set, progress, cancellation),
            _ => GrhTrainer.Train(own, set, progress, cancellation),
        };
    }

    private static void Check(EncoderSpec spec, TrainingSet set)
    {
        const string Spec = "spec";
        if (!Enum.IsDefined(spec.Kind))
        {
            throw new ArgumentException($"spec.Kind {(int)spec.Kind} is not an encoder kind", Spec);
        }
        if (spec.Kind == EncoderKind.BinaryQuantization)
        {
            int width = BinaryQuantizationEncoder.WidthFor(set.Dimension);
            if (width > CodeLayout.MaxCodeBits)
            {
                throw new ArgumentException($"binary quantization of dimension {set.Dimension} would make {width}-bit codes; the widest is {CodeLayout.MaxCodeBits}", nameof(set));
            }
            if (spec.CodeBits != 0 && spec.CodeBits != width)
            {
                throw new ArgumentException($"spec.CodeBits is {spec.CodeBits}; binary quantization of dimension {set.Dimension} makes {width}-bit codes (pass 0 or {width})", Spec);
            }
        }
        else
        {
            CheckWidth(spec.CodeBits, nameof(spec));
            if ((long)spec.CodeBits * set.Dimension > MaxProjectionFloats)
            {
                throw new ArgumentException($"{spec.CodeBits} hyperplanes of dimension {set.Dimension} would hold {(long)spec.CodeBits * set.Dimension} floats; the limit is {MaxProjectionFloats}", Spec);
            }
        }
        if (spec.Kind == EncoderKind.Itq && set.Dimension > MaxItqDimension)
        {
            throw new ArgumentException($"ITQ of dimension {set.Dimension}: its covariance ({set.Dimension} x {set.Dimension}) is too large; ITQ takes at most {MaxItqDimension} dimensions", nameof(set));
        }
        CheckOptions(spec);
        int minimum = MinimumRows(spec);
        if (set.Count < minimum)
        {
            throw new ArgumentException($"{set.Count} training rows; {Describe(spec)} needs at least {minimum}", nameof(set));
        }
        if (spec.Kind is EncoderKind.Itq or EncoderKind.Grh && (long)set.Count * spec.CodeBits > Array.MaxLength)
        {
            throw new ArgumentException($"{set.Count} training rows x {spec.CodeBits} bits exceed an array's {Array.MaxLength} elements; train on a sample", nameof(set));
        }
        if (spec.Kind == EncoderKind.Grh)
        {
            if (set.Labels is not { } labels)
            {
                throw new ArgumentException("GRH is supervised: the training set has no labels", nameof(set));
            }
            ReadOnlySpan<int> span = labels.Span;
            bool twoClasses = false;
            for (int i = 1; i < span.Length && !twoClasses; i++)
            {
                twoClasses = span[i] != span[0];
            }
            if (!twoClasses)
            {
                throw new ArgumentException($"GRH needs at least two classes; every label of the training set is {span[0]}", nameof(set));
            }
        }
        set.CheckFinite(nameof(set));
    }

    /// <summary>Throws unless <paramref name="codeBits"/> is a multiple of 8 from 8 to 8192.</summary>
    internal static void CheckWidth(int codeBits, string paramName)
    {
        if (codeBits < CodeLayout.MinCodeBits || codeBits > CodeLayout.MaxCodeBits || codeBits % 8 != 0)
        {
            throw new ArgumentException($"spec.CodeBits is {codeBits}; a code width is a multiple of 8 from {CodeLayout.MinCodeBits} to {CodeLayout.MaxCodeBits}", paramName);
        }
    }

    private static void CheckOptions(EncoderSpec spec)
    {
        const string Spec = "spec";
        switch (spec.Kind)
        {
            case EncoderKind.Lsh:
                _ = spec.Lsh ?? throw new ArgumentException("spec.Lsh is null", Spec);
                break;
            case EncoderKind.BinaryQuantization:
                BinaryQuantizationOptions bq = spec.BinaryQuantization ?? throw new ArgumentException("spec.BinaryQuantization is null", Spec);
                if (!Enum.IsDefined(bq.Threshold))
                {
                    throw new ArgumentException($"spec.BinaryQuantization.Threshold {(int)bq.Threshold} is not a threshold kind", Spec);
                }
                break;
            case EncoderKind.Itq:
                ItqOptions itq = spec.Itq ?? throw new ArgumentException("spec.Itq is null", Spec);
                if (itq.Iterations < 0 || itq.Iterations > 100_000)
                {
                    throw new ArgumentException($"spec.Itq.Iterations is {itq.Iterations}; it must be 0..100000", Spec);
                }
                break;
            default:
                GrhOptions grh = spec.Grh ?? throw new ArgumentException("spec.Grh is null", Spec);
                if (grh.Iterations < 1 || grh.Iterations > 10_000)
                {
                    throw new ArgumentException($"spec.Grh.Iterations is {grh.Iterations}; it must be 1..10000", Spec);
                }
                if (!(grh.Alpha >= 0 && grh.Alpha <= 1))
                {
                    throw new ArgumentException($"spec.Grh.Alpha is {grh.Alpha}; it must be in 0..1", Spec);
                }
                if (grh.Epochs < 1 || grh.Epochs > 10_000)
                {
                    throw new ArgumentException($"spec.Grh.Epochs is {grh.Epochs}; it must be 1..10000", Spec);
                }
                if (!(grh.LearningRate > 0 && double.IsFinite(grh.LearningRate)))
                {
                    throw new ArgumentException($"spec.Grh.LearningRate is {grh.LearningRate}; it must be positive and finite", Spec);
                }
                if (!(grh.Regularization >= 0 && double.IsFinite(grh.Regularization)))
                {
                    throw new ArgumentException($"spec.Grh.Regularization is {grh.Regularization}; it must be zero or positive and finite", Spec);
                }
                break;
        }
    }

    private static string Describe(EncoderSpec spec) => spec.Kind switch
    {
        EncoderKind.Lsh => "centered LSH",
        EncoderKind.BinaryQuantization => $"binary quantization by {spec.BinaryQuantization.Threshold.ToString().ToLowerInvariant()}",
        EncoderKind.Itq => $"ITQ at {spec.CodeBits} bits (PCA and the rotation need a row per bit)",
        _ => "GRH",
    };
}
