using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using HammingDB.Kernels;

namespace HammingDB.Cli.Input;

/// <summary>
/// Hex as hdb reads and writes it: the bytes of a code (or payload) in storage order, byte 0 first,
/// two digits per byte (either case in, lowercase out). A code of B bits is B/8 bytes; byte j is byte
/// j%8 of the little-endian word j/8 (<see cref="CodeLayout"/>): exactly the code's bytes in an .hdbc file.
/// </summary>
internal static class Hex
{
    /// <summary>
    /// Decodes the hex of a code into <paramref name="code"/> (WordsPerCode words, padding zeroed);
    /// <paramref name="column"/> is the 1-based column of the first digit in its line, for messages.
    /// </summary>
    public static void DecodeCode(ReadOnlySpan<byte> hex, CodeLayout layout, Span<ulong> code, int column)
    {
        int bytes = layout.CodeBits / 8;
        if (hex.Length % 2 != 0)
        {
            throw new RecordException($"the code has an odd number of hex digits ({hex.Length}, from column {column})");
        }
        if (hex.Length != 2 * bytes)
        {
            throw new RecordException(
                $"the code is {hex.Length / 2} bytes ({hex.Length} hex digits) but the collection's codes are {layout.CodeBits} bits: {bytes} bytes, {2 * bytes} hex digits");
        }
        code = code[..layout.WordsPerCode];
        code.Clear();
        DecodeBytes(hex, MemoryMarshal.AsBytes(code)[..bytes], column, "code");
        if (!BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.ReverseEndianness(code, code);
        }
    }

    /// <summary>Decodes the hex of a payload.</summary>
    public static byte[] DecodePayload(ReadOnlySpan<byte> hex, int column)
    {
        if (hex.Length % 2 != 0)
        {
            throw new RecordException($"the payload has an odd number of hex digits ({hex.Length}, from column {column})");
        }
        var bytes = new byte[hex.Length / 2];
        DecodeBytes(hex, bytes, column, "payload");
        return bytes;
    }

    private static void DecodeBytes(ReadOnlySpan<byte> hex, Span<byte> destination, int column, string what)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            int high = Nibble(hex[2 * i]), low = Nibble(hex[2 * i + 1]);
            if ((high | low) < 0)
            {
                int at = high < 0 ? 2 * i : 2 * i + 1;
                throw new RecordException($"{Show(hex[at])} at column {column + at} is not a hex digit (in the {what})");
            }
            destination[i] = (byte)((high << 4) | low);
        }
    }

    private static int Nibble(byte c)
    {
        uint digit = (uint)(c - '0');
        if (digit <= 9)
        {
            return (int)digit;
        }
        uint letter = (uint)((c | 0x20) - 'a');
        return letter <= 5 ? (int)letter + 10 : -1;
    }

    private static string Show(byte c) =>
        c is >= 0x21 and < 0x7F ? $"'{(char)c}'" : $"byte 0x{c.ToString("x2", CultureInfo.InvariantCulture)}";

    /// <summary>The code's bytes in storage order (its first B/8 bytes).</summary>
    public static ReadOnlySpan<byte> CodeBytes(ReadOnlySpan<ulong> code, int codeBits, Span<ulong> scratch)
    {
        if (!BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.ReverseEndianness(code, scratch[..code.Length]);
            code = scratch[..code.Length];
        }
        return MemoryMarshal.AsBytes(code)[..(codeBits / 8)];
    }

    /// <summary>Writes lowercase hex of <paramref name="bytes"/> into <paramref name="chars"/> (twice as long).</summary>
    public static ReadOnlySpan<char> Encode(ReadOnlySpan<byte> bytes, Span<char> chars)
    {
        if (!Convert.TryToHexStringLower(bytes, chars, out int written))
        {
            throw new ArgumentException("The hex buffer is too small.", nameof(chars));
        }
        return chars[..written];
    }
}
