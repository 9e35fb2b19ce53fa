namespace HammingDB.Kernels.Scan;

/// <summary>
/// A code width as a type, so each scan loop is compiled once per width with the word count a
/// constant (STYLE: specialise by width once per scan, never per pair).
/// </summary>
internal interface IWidth
{
    /// <summary>
    /// Words per code when fixed; otherwise passed at run time and this is 0 (<see cref="WN"/>: any
    /// width, one code at a time) or -8 (<see cref="W8N"/>: a multiple of 8 words, eight codes at a time).
    /// </summary>
    static abstract int Words { get; }
}

/// <summary>64-bit codes.</summary>
internal readonly struct W1 : IWidth { public static int Words => 1; }

/// <summary>128-bit codes.</summary>
internal readonly struct W2 : IWidth { public static int Words => 2; }

/// <summary>256-bit codes.</summary>
internal readonly struct W4 : IWidth { public static int Words => 4; }

/// <summary>512-bit codes.</summary>
internal readonly struct W8 : IWidth { public static int Words => 8; }

/// <summary>Any other width: the word count is a run-time value.</summary>
internal readonly struct WN : IWidth { public static int Words => 0; }

/// <summary>Multiples of 512 bits from 1024 up: eight codes at a time on the AVX-512 path; the word count is a run-time value.</summary>
internal readonly struct W8N : IWidth { public static int Words => -8; }
