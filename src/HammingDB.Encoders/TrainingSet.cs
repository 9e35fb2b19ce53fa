namespace HammingDB.Encoders;

/// <summary>
/// A training sample: <see cref="Count"/> row-major float vectors of <see cref="Dimension"/>, and
/// optionally one integer label per row (required by <see cref="EncoderKind.Grh"/>). The memory
/// is not copied: do not change it while an encoder trains on it. Finiteness is checked by
/// <see cref="EncoderTraining.Train"/>, which names the row and column of a NaN or infinity.
/// </summary>
public sealed class TrainingSet
{
    /// <summary>The largest dimension an encoder takes.</summary>
    public const int MaxDimension = 65_536;

    /// <summary>A sample of row-major <paramref name="vectors"/> of <paramref name="dimension"/>, with optional <paramref name="labels"/> (not copied either).</summary>
    /// <exception cref="ArgumentException">The dimension is out of 1..<see cref="MaxDimension"/>, the floats do not make whole rows, or there is not one label per row.</exception>
    public TrainingSet(ReadOnlyMemory<float> vectors, int dimension, int[]? labels = null)
    {
        if (dimension < 1 || dimension > MaxDimension)
        {
            throw new ArgumentException($"dimension {dimension} is out of range 1..{MaxDimension}", nameof(dimension));
        }
        if (vectors.Length % dimension != 0)
        {
            throw new ArgumentException($"{vectors.Length} floats do not make whole rows of dimension {dimension}", nameof(vectors));
        }
        int count = vectors.Length / dimension;
        if (labels is { } given && given.Length != count)
        {
            throw new ArgumentException($"{given.Length} labels for {count} rows; give one label per row", nameof(labels));
        }
        Vectors = vectors;
        Dimension = dimension;
        Count = count;
        if (labels is not null)
        {
            // Not a conditional expression: there, null would convert to an empty ReadOnlyMemory (through int[]) and count as labels.
            Labels = labels;
        }
    }

    /// <summary>A sample from one array per row (copied), every row of the first row's dimension.</summary>
    /// <exception cref="ArgumentException">There are no rows, a row has another dimension (it is named), or there is not one label per row.</exception>
    public static TrainingSet FromRows(IReadOnlyList<float[]> rows, IReadOnlyList<int>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            throw new ArgumentException("no rows: the dimension is unknown; use the constructor for an empty sample", nameof(rows));
        }
        int dimension = rows[0]?.Length ?? throw new ArgumentException("rows[0] is null", nameof(rows));
        var vectors = new float[(long)rows.Count * dimension];
        for (int i = 0; i < rows.Count; i++)
        {
            float[] row = rows[i] ?? throw new ArgumentException($"rows[{i}] is null", nameof(rows));
            if (row.Length != dimension)
            {
                throw new ArgumentException($"rows[{i}] has dimension {row.Length}; rows[0] has {dimension}", nameof(rows));
            }
            row.CopyTo(vectors, (long)i * dimension);
        }
        return new TrainingSet(vectors, dimension, labels?.ToArray());
    }

    /// <summary>The vectors, row-major.</summary>
    public ReadOnlyMemory<float> Vectors { get; }

    /// <summary>The dimension of every row.</summary>
    public int Dimension { get; }

    /// <summary>The number of rows.</summary>
    public int Count { get; }

    /// <summary>One label per row, or null.</summary>
    public ReadOnlyMemory<int>? Labels { get; }

    /// <summary>Row <paramref name="row"/>.</summary>
    public ReadOnlySpan<float> Row(int row) => Vectors.Span.Slice(row * Dimension, Dimension);

    /// <summary>Throws unless every value is finite, naming the first row and column that is not.</summary>
    internal void CheckFinite(string paramName)
    {
        ReadOnlySpan<float> all = Vectors.Span;
        for (int i = 0; i < all.Length; i++)
        {
            if (!float.IsFinite(all[i]))
            {
                throw new ArgumentException($"training row {i / Dimension}, column {i % Dimension} is {all[i]}; vectors must be finite", paramName);
            }
        }
    }
}

/// <summary>How far training has got.</summary>
/// <param name="Stage">
/// What it is doing: "statistics" (means, deviations, medians), "hyperplanes" (random draws),
/// "pca", "rotation" (ITQ's iterations), "smoothing" and "classifiers" (GRH's rounds), "done".
/// </param>
/// <param name="Fraction">The fraction of the whole training done, 0..1.</param>
/// <param name="Loss">ITQ's quantization loss ||B - VR||_F^2 after each iteration; otherwise null.</param>
public readonly record struct TrainingProgress(string Stage, double Fraction, double? Loss = null);
