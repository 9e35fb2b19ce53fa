using HammingDB.Kernels;

namespace HammingDB.Cli.Input;

/// <summary>
/// One line of the hex format: <c>HEX</c> (the code alone) or <c>KEY&lt;TAB&gt;HEX</c>. The key is
/// everything before the last tab, as text (<see cref="KeyFormat{TKey}.ParseText(ReadOnlySpan{byte})"/>).
/// </summary>
internal static class HexRecord
{
    /// <summary>Decodes the code of <paramref name="line"/>; returns whether the line has a key, and its text.</summary>
    public static bool Parse(ReadOnlySpan<byte> line, CodeLayout layout, Span<ulong> code, out ReadOnlySpan<byte> keyText)
    {
        if (line.IsEmpty)
        {
            throw new RecordException("the line is empty (each line holds one code)");
        }
        int tab = line.LastIndexOf((byte)'\t');
        keyText = tab >= 0 ? line[..tab] : default;
        Hex.DecodeCode(line[(tab + 1)..], layout, code, column: tab + 2);
        return tab >= 0;
    }
}
