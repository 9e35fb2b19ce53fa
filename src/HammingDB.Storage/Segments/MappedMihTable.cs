using System.Buffers;

namespace HammingDB.Storage.Segments;

/// <summary>
/// An MIH table as mapped from a segment file (<see cref="SegmentFormat"/>): its arrays are memory
/// over the mapping itself, never copied, valid while the <see cref="SegmentReader"/> is open. Their
/// checksums are verified at open, or later by <see cref="SegmentReader.VerifyMihTables"/>.
/// </summary>
internal sealed class MappedMihTable
{
    internal MappedMihTable(int start, int bits, int directBits, ReadOnlyMemory<int> offsets, ReadOnlyMemory<int> rows, ReadOnlyMemory<ulong> words, bool hasInlineCodes, bool hasFilterWords)
    {
        Start = start;
        Bits = bits;
        DirectBits = directBits;
        Offsets = offsets;
        Rows = rows;
        Words = words;
        HasInlineCodes = hasInlineCodes;
        HasFilterWords = hasFilterWords;
    }

    /// <summary>The first bit of the substring.</summary>
    public int Start { get; }

    /// <summary>The substring width in bits.</summary>
    public int Bits { get; }

    /// <summary>The top bits of the substring addressed directly.</summary>
    public int DirectBits { get; }

    /// <summary>2^<see cref="DirectBits"/> + 1 offsets into the postings (64-byte aligned in the mapping).</summary>
    public ReadOnlyMemory<int> Offsets { get; }

    /// <summary>The row of each posting (64-byte aligned in the mapping).</summary>
    public ReadOnlyMemory<int> Rows { get; }

    /// <summary>The word of each posting (its code or its filter word, as the flags say; 64-byte aligned in the mapping); empty when the table has neither.</summary>
    public ReadOnlyMemory<ulong> Words { get; }

    /// <summary>The code of each posting; empty when the table has no inline codes.</summary>
    public ReadOnlyMemory<ulong> Codes => HasInlineCodes ? Words : ReadOnlyMemory<ulong>.Empty;

    /// <summary>The filter word of each posting; empty when the table has no filter words.</summary>
    public ReadOnlyMemory<ulong> FilterWords => HasFilterWords ? Words : ReadOnlyMemory<ulong>.Empty;

    /// <summary>Whether the postings carry their codes (table flag 1).</summary>
    public bool HasInlineCodes { get; }

    /// <summary>Whether the postings carry filter words (table flag 2).</summary>
    public bool HasFilterWords { get; }
}

/// <summary>
/// Memory over part of a <see cref="MappedRegion"/> held by a <see cref="SegmentReader"/>: no copy, no
/// pinning needed (mapped memory never moves). Valid until the reader is disposed; after that,
/// getting a span throws <see cref="ObjectDisposedException"/> (spans taken before must not be used,
/// as for <see cref="SegmentReader.Codes"/>).
/// </summary>
internal sealed unsafe class MappedMemory<T> : MemoryManager<T>
    where T : unmanaged
{
    private readonly SegmentReader _owner; // also keeps the mapping reachable (not collected) while this memory is
    private readonly T* _pointer;
    private readonly int _length;

    public MappedMemory(SegmentReader owner, MappedRegion region, long byteOffset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteOffset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (byteOffset > region.Length - (long)length * sizeof(T) || byteOffset % sizeof(T) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(byteOffset), $"{length} x {sizeof(T)} bytes at {byteOffset} are not an aligned part of the mapping of {region.Length} bytes.");
        }
        _owner = owner;
        _pointer = (T*)(region.Pointer + byteOffset);
        _length = length;
    }

    public override Span<T> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_owner.IsDisposed, _owner);
        return new Span<T>(_pointer, _length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)_length, nameof(elementIndex));
        ObjectDisposedException.ThrowIf(_owner.IsDisposed, _owner);
        return new MemoryHandle(_pointer + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        // Nothing to release: the reader owns the mapping.
    }
}
