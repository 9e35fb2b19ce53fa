namespace HammingDB.Encoders;

/// <summary>
/// What to train: the method, the code width, the seed of every random draw, and the method's
/// options (only those of <see cref="Kind"/> are used). Training twice with equal specs and equal
/// data gives byte-identical encoders.
/// </summary>
/// <param name="Kind">The method.</param>
/// <param name="CodeBits">
/// The code width: a multiple of 8 from 8 to 8192. For <see cref="EncoderKind.BinaryQuantization"/>
/// the width follows from the dimension (one bit per dimension, rounded up to a multiple of 8, the
/// extra bits zero): pass 0, or exactly that width.
/// </param>
/// <param name="Seed">The seed of the method's random draws (hyperplanes, starting rotation, shuffles).</param>
public sealed record EncoderSpec(EncoderKind Kind, int CodeBits, ulong Seed = 0)
{
    /// <summary>Options of <see cref="EncoderKind.Lsh"/>.</summary>
    public LshOptions Lsh { get; init; } = new();

    /// <summary>Options of <see cref="EncoderKind.BinaryQuantization"/>.</summary>
    public BinaryQuantizationOptions BinaryQuantization { get; init; } = new();

    /// <summary>Options of <see cref="EncoderKind.Itq"/>.</summary>
    public ItqOptions Itq { get; init; } = new();

    /// <summary>Options of <see cref="EncoderKind.Grh"/>.</summary>
    public GrhOptions Grh { get; init; } = new();

    /// <summary>This spec with the options of other methods reset to their defaults (what an encoder reports).</summary>
    internal EncoderSpec OwnOptionsOnly() => new(Kind, CodeBits, Seed)
    {
        Lsh = Kind == EncoderKind.Lsh ? Lsh : new(),
        BinaryQuantization = Kind == EncoderKind.BinaryQuantization ? BinaryQuantization : new(),
        Itq = Kind == EncoderKind.Itq ? Itq : new(),
        Grh = Kind == EncoderKind.Grh ? Grh : new(),
    };
}

/// <summary>Options of random-hyperplane LSH (SimHash).</summary>
public sealed record LshOptions
{
    /// <summary>
    /// Subtract the training sample's mean before hashing. Default false: hyperplanes pass through
    /// the origin, the encoder needs no data (an empty training set of the right dimension will do),
    /// and two vectors at angle theta differ in each bit with probability theta / pi. Centering
    /// serves data that lies far from the origin (all-positive pixels or SIFT), where most
    /// hyperplanes would otherwise put every vector on one side.
    /// </summary>
    public bool Center { get; init; }
}

/// <summary>The threshold of each dimension in binary quantization: bit i is set iff x[i] &gt; threshold[i].</summary>
public enum QuantizationThreshold
{
    /// <summary>Zero: the sign of each component (a positive component sets its bit; zero does not).</summary>
    Sign = 0,

    /// <summary>The sample's mean of each dimension.</summary>
    Mean = 1,

    /// <summary>The sample's median of each dimension (the middle value; the mean of the two middle values for an even count).</summary>
    Median = 2,
}

/// <summary>Options of binary quantization.</summary>
public sealed record BinaryQuantizationOptions
{
    /// <summary>The per-dimension threshold. Default <see cref="QuantizationThreshold.Sign"/> (no statistics: for embeddings already centered).</summary>
    public QuantizationThreshold Threshold { get; init; } = QuantizationThreshold.Sign;
}

/// <summary>Options of ITQ (Gong and Lazebnik, iterative quantization).</summary>
public sealed record ItqOptions
{
    /// <summary>The alternations of B = sign(VR) and the Procrustes update of R. Default 50 (the paper's); 0 keeps the random rotation.</summary>
    public int Iterations { get; init; } = 50;
}

/// <summary>Options of Graph Regularised Hashing (Moran and Lavrenko).</summary>
public sealed record GrhOptions
{
    /// <summary>Rounds of smoothing codes over the label graph and refitting the hyperplanes. Default 3.</summary>
    public int Iterations { get; init; } = 3;

    /// <summary>
    /// The blend weight alpha in B &lt;- sign(alpha * S_norm * B + (1 - alpha) * B), 0..1: 1 replaces each
    /// code by its class's majority, 0 keeps it. Default 0.8.
    /// </summary>
    public double Alpha { get; init; } = 0.8;

    /// <summary>Passes of stochastic gradient descent over the training rows per bit and round. Default 10.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>The initial step eta0 of the hinge-loss SGD (step t is eta0 / (1 + eta0 * lambda * t)). Default 0.1.</summary>
    public double LearningRate { get; init; } = 0.1;

    /// <summary>The L2 regularisation lambda of each linear SVM. Default 1e-4.</summary>
    public double Regularization { get; init; } = 1e-4;
}
