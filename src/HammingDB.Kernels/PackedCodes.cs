using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace HammingDB.Kernels;

/// <summary>
/// An owned, fixed-capacity buffer of packed codes (layout: <see cref="CodeLayout"/>), 64-byte
/// aligned and never moved by the garbage collector, so <see cref="Block"/> can hand the kernels a
/// stable pointer. Rows are appended; the buffer never grows past its capacity.
/// </summary>
public sealed unsafe class PackedCodes
{
    private const int Alignment = 64;

    // Pinned (pinned object heap): its address never changes, so _words stays valid while this object lives.
    private readonly ulong[] _storage;
    private readonly ulong* _words;

    /// <summary>An empty buffer for up to <paramref name="capacity"/> codes of the given layout.</summary>
    public PackedCodes(CodeLayout layout, int capacity)
    {
        if (layout.CodeBits == 0)
        {
            throw new ArgumentException("The layout is uninitialised; create it with new CodeLayout(bits).", nameof(layout));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Layout = layout;
        Capacity = capacity;
        long words = (long)capacity * layout.WordsPerCode;
        if (words > Array.MaxLength - Alignment / 8)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "Too many codes for one buffer.");
        }
        _storage = GC.AllocateArray<ulong>((int)words + Alignment / 8, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref _storage[0]);
        nint aligned = (address + (Alignment - 1)) & ~(nint)(Alignment - 1);
        _words = (ulong*)aligned;
    }

    /// <summary>The width and packing of the codes.</summary>
    public CodeLayout Layout { get; }

    /// <summary>How many codes the buffer can hold.</summary>
    public int Capacity { get; }

    /// <summary>How many codes it holds.</summary>
    public int Count { get; private set; }

    /// <summary>A view of the codes held now, for the kernels. Valid while this buffer is alive.</summary>
    public CodeBlock Block => new(_words, Count, Layout);

    /// <summary>The words of all codes held, to read or to overwrite in place.</summary>
    /// <remarks>Writers must keep each code's padding bits zero (see <see cref="CodeLayout.Validate"/>).</remarks>
    public Span<ulong> Words => new(_words, Count * Layout.WordsPerCode);

    /// <summary>The words of code <paramref name="row"/>.</summary>
    public ReadOnlySpan<ulong> this[int row] => Block[row];

    /// <summary>Appends one code given as words.</summary>
    /// <exception cref="ArgumentException">The code does not fit the layout (see <see cref="CodeLayout.Validate"/>).</exception>
    /// <exception cref="InvalidOperationException">The buffer is full.</exception>
    public void Add(ReadOnlySpan<ulong> code)
    {
        Layout.Validate(code, nameof(code));
        code.CopyTo(Reserve());
    }

    /// <summary>Appends one code given as its <see cref="CodeLayout.CodeBytes"/> bytes in storage order.</summary>
    /// <exception cref="ArgumentException">The byte count is not the code width.</exception>
    /// <exception cref="InvalidOperationException">The buffer is full.</exception>
    public void AddBytes(ReadOnlySpan<byte> code)
    {
        if (code.Length != Layout.CodeBytes)
        {
            throw new ArgumentException($"A {Layout.CodeBits}-bit code is {Layout.CodeBytes} bytes; got {code.Length}.", nameof(code));
        }
        Span<ulong> words = Reserve();
        words.Clear();
        code.CopyTo(MemoryMarshal.AsBytes(words));
        if (!BitConverter.IsLittleEndian)
        {
            for (int w = 0; w < words.Length; w++)
            {
                words[w] = BinaryPrimitives.ReverseEndianness(words[w]);
            }
        }
    }

    /// <summary>
    /// Appends <paramref name="count"/> codes whose words come one after another in
    /// <paramref name="words"/> (the .hdbc body layout). Checks every code's padding.
    /// </summary>
    public void AddRange(ReadOnlySpan<ulong> words, int count)
    {
        int perCode = Layout.WordsPerCode;
        if (words.Length != (long)count * perCode)
        {
            throw new ArgumentException($"{count} codes of {Layout.CodeBits} bits take {(long)count * perCode} words; got {words.Length}.", nameof(words));
        }
        if (count > Capacity - Count)
        {
            throw new InvalidOperationException($"The buffer holds {Count} of {Capacity} codes; {count} more do not fit.");
        }
        ulong mask = Layout.LastWordMask;
        if (mask != ulong.MaxValue)
        {
            for (int row = 0; row < count; row++)
            {
                if ((words[row * perCode + perCode - 1] & ~mask) != 0)
                {
                    throw new ArgumentException($"Code {row} has bits set past bit {Layout.CodeBits - 1}.", nameof(words));
                }
            }
        }
        words.CopyTo(new Span<ulong>(_words + (long)Count * perCode, words.Length));
        Count += count;
    }

    private Span<ulong> Reserve()
    {
        if (Count == Capacity)
        {
            throw new InvalidOperationException($"The buffer is full ({Capacity} codes).");
        }
        int perCode = Layout.WordsPerCode;
        var span = new Span<ulong>(_words + (long)Count * perCode, perCode);
        Count++;
        return span;
    }
}
