using System.Runtime.CompilerServices;

namespace HammingDB.Kernels;

/// <summary>
/// A read-only view of <see cref="Count"/> packed codes in memory the caller owns (a
/// <see cref="PackedCodes"/> buffer, a memory-mapped segment). It is a pointer and a count: the
/// owner must keep the memory alive and unchanged while a search runs on the view.
/// </summary>
public readonly unsafe struct CodeBlock
{
    private readonly ulong* _words;

    /// <summary>A view of <paramref name="count"/> codes laid out as <paramref name="layout"/> says, starting at <paramref name="words"/>.</summary>
    /// <remarks>Faster when <paramref name="words"/> is 64-byte aligned; correct at any 8-byte alignment.</remarks>
    public CodeBlock(ulong* words, int count, CodeLayout layout)
    {
        if (words == null && count != 0)
        {
            throw new ArgumentNullException(nameof(words));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (layout.CodeBits == 0)
        {
            throw new ArgumentException("The layout is uninitialised; create it with new CodeLayout(bits).", nameof(layout));
        }
        _words = words;
        Count = count;
        Layout = layout;
    }

    /// <summary>How many codes the view holds.</summary>
    public int Count { get; }

    /// <summary>The width and packing of the codes.</summary>
    public CodeLayout Layout { get; }

    /// <summary>All words of all codes.</summary>
    public ReadOnlySpan<ulong> Words => new(_words, checked(Count * Layout.WordsPerCode));

    /// <summary>The words of code <paramref name="row"/>.</summary>
    public ReadOnlySpan<ulong> this[int row]
    {
        get
        {
            if ((uint)row >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(row), row, $"The block holds {Count} codes.");
            }
            int words = Layout.WordsPerCode;
            return new ReadOnlySpan<ulong>(_words + (long)row * words, words);
        }
    }

    /// <summary>A view of codes <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> - 1.</summary>
    public CodeBlock Slice(int start, int count)
    {
        if ((uint)start > (uint)Count || (uint)count > (uint)(Count - start))
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"[{start}, {start}+{count}) is outside the block of {Count} codes.");
        }
        return new CodeBlock(_words + (long)start * Layout.WordsPerCode, count, Layout);
    }

    /// <summary>A reference to the first word of code <paramref name="row"/>, for the kernels (no bounds check).</summary>
    internal ref ulong WordRef(int row) => ref Unsafe.AsRef<ulong>(_words + (long)row * Layout.WordsPerCode);
}
