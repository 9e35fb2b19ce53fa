using System.Runtime.Intrinsics.X86;

namespace HammingDB.Kernels;

/// <summary>The instruction-set paths of the kernels, from the scalar reference up.</summary>
public enum IsaLevel
{
    /// <summary><c>BitOperations.PopCount</c> per word: the reference every other path must equal.</summary>
    Scalar = 0,

    /// <summary>256-bit vectors: nibble lookup-table popcount (<c>vpshufb</c>) and <c>vpsadbw</c>.</summary>
    Avx2 = 1,

    /// <summary>512-bit vectors (AVX-512 F + BW): the same lookup table, eight 64-bit lanes at a time.</summary>
    Avx512 = 2,

    /// <summary>AVX-512 with VBMI: byte counts from two <c>vpermb</c> lookups instead of four nibble ops and two <c>vpshufb</c>.</summary>
    Avx512Vbmi = 3,
}

/// <summary>
/// Chooses the kernels' instruction-set level once. The default is the best level the CPU has,
/// capped by the environment variable <c>HAMMINGDB_ISA</c> (<c>scalar</c>, <c>avx2</c>,
/// <c>avx512</c> or <c>avx512vbmi</c>); a search may ask for a lower level through its options, so every path can be
/// run and tested on one machine.
/// </summary>
public static class Isa
{
    /// <summary>The name of the environment variable that caps the default level.</summary>
    public const string EnvironmentVariable = "HAMMINGDB_ISA";

    private static readonly Lazy<IsaLevel> s_default =
        new(() => CapFromEnvironment(Environment.GetEnvironmentVariable(EnvironmentVariable), Hardware));

    /// <summary>The best level this CPU (and runtime) supports.</summary>
    public static IsaLevel Hardware { get; } =
        Avx512F.IsSupported && Avx512BW.IsSupported && Avx512Vbmi.IsSupported ? IsaLevel.Avx512Vbmi
        : Avx512F.IsSupported && Avx512BW.IsSupported ? IsaLevel.Avx512
        : Avx2.IsSupported ? IsaLevel.Avx2
        : IsaLevel.Scalar;

    /// <summary>The level used when a search does not name one: <see cref="Hardware"/> capped by <c>HAMMINGDB_ISA</c>.</summary>
    /// <exception cref="InvalidOperationException"><c>HAMMINGDB_ISA</c> holds an unknown name.</exception>
    public static IsaLevel Default => s_default.Value;

    /// <summary>Whether this machine can run <paramref name="level"/>.</summary>
    public static bool IsSupported(IsaLevel level) => level >= IsaLevel.Scalar && level <= Hardware;

    /// <summary>The level to run: <paramref name="requested"/>, or <see cref="Default"/> when null.</summary>
    /// <exception cref="PlatformNotSupportedException">The CPU lacks the requested level.</exception>
    public static IsaLevel Resolve(IsaLevel? requested)
    {
        if (requested is not { } level)
        {
            return Default;
        }
        if (!Enum.IsDefined(level))
        {
            throw new ArgumentOutOfRangeException(nameof(requested), level, "Unknown ISA level.");
        }
        if (!IsSupported(level))
        {
            throw new PlatformNotSupportedException(
                $"ISA level {Format(level)} was requested but this CPU supports at most {Format(Hardware)}.");
        }
        return level;
    }

    /// <summary>Parses <c>scalar</c>, <c>avx2</c>, <c>avx512</c> or <c>avx512vbmi</c> (any case).</summary>
    /// <exception cref="ArgumentException">Any other text.</exception>
    public static IsaLevel Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Trim().ToUpperInvariant() switch
        {
            "SCALAR" => IsaLevel.Scalar,
            "AVX2" => IsaLevel.Avx2,
            "AVX512" => IsaLevel.Avx512,
            "AVX512VBMI" => IsaLevel.Avx512Vbmi,
            _ => throw new ArgumentException($"'{text}' is not an ISA level; use scalar, avx2, avx512 or avx512vbmi.", nameof(text)),
        };
    }

    /// <summary>The name <see cref="Parse"/> reads back.</summary>
    public static string Format(IsaLevel level) => level switch
    {
        IsaLevel.Scalar => "scalar",
        IsaLevel.Avx2 => "avx2",
        IsaLevel.Avx512 => "avx512",
        IsaLevel.Avx512Vbmi => "avx512vbmi",
        _ => level.ToString(),
    };

    internal static IsaLevel CapFromEnvironment(string? value, IsaLevel hardware)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return hardware;
        }
        IsaLevel cap;
        try
        {
            cap = Parse(value);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"{EnvironmentVariable}: {e.Message}", e);
        }
        return cap < hardware ? cap : hardware;
    }
}
