namespace HammingDB.Kernels;

/// <summary>
/// How codes of one width are packed in memory: each code occupies <see cref="WordsPerCode"/>
/// little-endian 64-bit words, word 0 first; the bits past <see cref="CodeBits"/> in the last word
/// are zero. A run of codes is one code after another with no gap, so code <c>i</c> starts at word
/// <c>i * WordsPerCode</c>. Byte <c>j</c> of a code (its storage order, as in hex and .hdbc files)
/// is byte <c>j % 8</c> of word <c>j / 8</c>.
/// </summary>
/// <remarks>
/// Padding to whole words keeps every kernel word-based (one popcount per word, whole vectors per
/// code group). It costs memory only for codes that are not a multiple of 64 bits: a 32-bit code
/// takes 8 bytes. See docs/ARCHITECTURE.md.
/// </remarks>
public readonly record struct CodeLayout
{
    /// <summary>The smallest code width supported, in bits.</summary>
    public const int MinCodeBits = 8;

    /// <summary>The largest code width supported, in bits.</summary>
    public const int MaxCodeBits = 8192;

    /// <summary>Creates the layout for codes of <paramref name="codeBits"/> bits.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The width is not a multiple of 8 in 8..8192.</exception>
    public CodeLayout(int codeBits)
    {
        if (codeBits < MinCodeBits || codeBits > MaxCodeBits || codeBits % 8 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(codeBits), codeBits,
                $"A code width must be a multiple of 8 bits from {MinCodeBits} to {MaxCodeBits}.");
        }
        CodeBits = codeBits;
    }

    /// <summary>Width of a code in bits.</summary>
    public int CodeBits { get; }

    /// <summary>Width of a code in bytes (its hex and file form).</summary>
    public int CodeBytes => CodeBits / 8;

    /// <summary>64-bit words each code occupies in memory.</summary>
    public int WordsPerCode => (CodeBits + 63) / 64;

    /// <summary>Bytes from the start of one code to the start of the next.</summary>
    public int StrideBytes => WordsPerCode * 8;

    /// <summary>The bits of the last word that belong to the code (all ones when the width is a multiple of 64).</summary>
    public ulong LastWordMask => CodeBits % 64 == 0 ? ulong.MaxValue : (1UL << (CodeBits % 64)) - 1;

    /// <summary>
    /// Throws when <paramref name="code"/> is not one code of this layout: the wrong number of words,
    /// or bits set past <see cref="CodeBits"/> (which would corrupt every distance to it).
    /// </summary>
    /// <exception cref="ArgumentException">The code does not fit this layout.</exception>
    public void Validate(ReadOnlySpan<ulong> code, string paramName)
    {
        if (code.Length != WordsPerCode)
        {
            throw new ArgumentException(
                $"A {CodeBits}-bit code takes {WordsPerCode} words; got {code.Length}.", paramName);
        }
        if ((code[^1] & ~LastWordMask) != 0)
        {
            throw new ArgumentException(
                $"The code has bits set past bit {CodeBits - 1}; a {CodeBits}-bit code must leave its padding zero.", paramName);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{CodeBits} bits ({WordsPerCode} words per code)";
}
