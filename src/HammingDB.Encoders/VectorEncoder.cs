using System.Buffers;
using HammingDB.Encoders.Internal;
using HammingDB.Kernels;

namespace HammingDB.Encoders;

/// <summary>The learning-to-hash methods an encoder may be trained with.</summary>
public enum EncoderKind
{
    /// <summary>Random-hyperplane LSH (SimHash): data-independent, seeded.</summary>
    Lsh = 1,

    /// <summary>Binary quantization: one bit per dimension, by sign or a learned per-dimension threshold.</summary>
    BinaryQuantization = 2,

    /// <summary>Iterative quantization: PCA to the code width, then a learned orthogonal rotation.</summary>
    Itq = 3,

    /// <summary>Graph Regularised Hashing (supervised): codes smoothed over a label graph, one linear classifier per bit.</summary>
    Grh = 4,
}

/// <summary>
/// A trained map from float vectors of <see cref="Dimension"/> to codes of <see cref="CodeBits"/>
/// bits (packed as <see cref="CodeLayout"/> says). Immutable and thread-safe once trained.
/// </summary>
public abstract class VectorEncoder
{
    /// <summary>The dimension of the vectors it encodes.</summary>
    public abstract int Dimension { get; }

    /// <summary>The width of the codes it produces.</summary>
    public abstract int CodeBits { get; }

    /// <summary>The method it was trained with.</summary>
    public abstract EncoderKind Kind { get; }

    /// <summary>The layout of its codes.</summary>
    public CodeLayout Layout => new(CodeBits);

    /// <summary>
    /// What it was trained with (kind, width, seed, and the options of its kind; other kinds' options
    /// at their defaults), or null for an encoder that <see cref="EncoderTraining"/> did not make.
    /// </summary>
    public virtual EncoderSpec? Spec => null;

    /// <summary>
    /// The encoder as bytes (format version 1, docs/format/encoder.md): everything needed to encode,
    /// checksummed. <see cref="Deserialize"/> gives back an encoder that makes identical codes.
    /// </summary>
    /// <exception cref="NotSupportedException">Not one of the built-in encoders.</exception>
    public byte[] Serialize() => EncoderFormat.Write(this);

    /// <summary>An encoder from the bytes <see cref="Serialize"/> wrote.</summary>
    /// <exception cref="InvalidDataException">The bytes are truncated, damaged, or of another format version; the message says what is wrong and where.</exception>
    public static VectorEncoder Deserialize(ReadOnlySpan<byte> bytes) => EncoderFormat.Read(bytes);

    /// <summary>Encodes one vector into <paramref name="code"/> (<see cref="CodeLayout.WordsPerCode"/> words).</summary>
    /// <exception cref="ArgumentException">The vector has the wrong dimension or holds NaN or infinity, or the code span has the wrong length.</exception>
    public void Encode(ReadOnlySpan<float> vector, Span<ulong> code)
    {
        CheckVector(vector, nameof(vector));
        if (code.Length != Layout.WordsPerCode)
        {
            throw new ArgumentException($"the code span holds {code.Length} words; a {CodeBits}-bit code needs {Layout.WordsPerCode}", nameof(code));
        }
        EncodeCore(vector, code);
    }

    /// <summary>
    /// Encodes <paramref name="count"/> row-major vectors, every one checked before any is encoded;
    /// returns the packed codes, one after another. Large batches are encoded on several threads
    /// (the codes are the same as one by one).
    /// </summary>
    /// <exception cref="ArgumentException">The span does not hold <paramref name="count"/> vectors, or a vector holds NaN or infinity (its row is named).</exception>
    public ulong[] EncodeMany(ReadOnlySpan<float> vectors, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (vectors.Length != (long)count * Dimension)
        {
            throw new ArgumentException($"{vectors.Length} floats do not make {count} vectors of dimension {Dimension}", nameof(vectors));
        }
        for (int i = 0; i < count; i++)
        {
            CheckVector(vectors.Slice(i * Dimension, Dimension), $"{nameof(vectors)}[{i}]");
        }
        int words = Layout.WordsPerCode;
        var codes = new ulong[(long)count * words];
        if ((long)count * Dimension * Math.Max(1, CodeBits / 8) < ParallelWork || count < 2 * ParallelRows)
        {
            for (int i = 0; i < count; i++)
            {
                EncodeCore(vectors.Slice(i * Dimension, Dimension), codes.AsSpan(i * words, words));
            }
            return codes;
        }
        // A span cannot cross into other threads: copy the batch once (cheap beside encoding it).
        float[] copy = ArrayPool<float>.Shared.Rent(vectors.Length);
        try
        {
            vectors.CopyTo(copy);
            int dimension = Dimension;
            int chunks = (count + ParallelRows - 1) / ParallelRows;
            Parallel.For(0, chunks, chunk =>
            {
                int end = Math.Min(count, (chunk + 1) * ParallelRows);
                for (int i = chunk * ParallelRows; i < end; i++)
                {
                    EncodeCore(copy.AsSpan(i * dimension, dimension), codes.AsSpan(i * words, words));
                }
            });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(copy);
        }
        return codes;
    }

    /// <summary>Batches below this much work (rows x dimension x code bytes) are encoded on the calling thread.</summary>
    private const long ParallelWork = 1L << 22;

    /// <summary>Rows per parallel work item.</summary>
    private const int ParallelRows = 256;

    /// <summary>Encodes a vector already checked into a zeroed or reused span of the right length (padding bits must end zero).</summary>
    protected abstract void EncodeCore(ReadOnlySpan<float> vector, Span<ulong> code);

    /// <summary>Throws unless <paramref name="vector"/> has this encoder's dimension and only finite values.</summary>
    /// <exception cref="ArgumentException">It does not.</exception>
    protected void CheckVector(ReadOnlySpan<float> vector, string name)
    {
        if (vector.Length != Dimension)
        {
            throw new ArgumentException($"{name} has dimension {vector.Length}; this encoder takes {Dimension}", name);
        }
        for (int i = 0; i < vector.Length; i++)
        {
            if (!float.IsFinite(vector[i]))
            {
                throw new ArgumentException($"{name}[{i}] is {vector[i]}; vectors must be finite", name);
            }
        }
    }
}
