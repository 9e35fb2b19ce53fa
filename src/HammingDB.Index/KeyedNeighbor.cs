namespace HammingDB.Index;

/// <summary>
/// A result of the engine's layers: an encoded key and its distance, and where its row is when the
/// search that found it says so (rescoring reads the row's vector there, not through the key index).
/// Ordered by distance, then key bytes.
/// </summary>
internal readonly record struct KeyedNeighbor(byte[] Key, int Distance) : IComparable<KeyedNeighbor>
{
    /// <summary><see cref="Source"/> of a memtable row.</summary>
    public const int Memtable = -1;

    /// <summary><see cref="Source"/> when the row is not known.</summary>
    public const int Unknown = -2;

    /// <summary>The index of the row's segment in the search's view, <see cref="Memtable"/>, or <see cref="Unknown"/>.</summary>
    public int Source { get; init; } = Unknown;

    /// <summary>The row in its segment or memtable (-1 when not known).</summary>
    public int Row { get; init; } = -1;

    public int CompareTo(KeyedNeighbor other)
    {
        int byDistance = Distance.CompareTo(other.Distance);
        return byDistance != 0 ? byDistance : Key.AsSpan().SequenceCompareTo(other.Key);
    }
}

/// <summary>Equality and hashing of encoded keys by content.</summary>
internal sealed class KeyComparer : IEqualityComparer<byte[]>
{
    public static KeyComparer Instance { get; } = new();

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] key)
    {
        var hash = new HashCode();
        hash.AddBytes(key);
        return hash.ToHashCode();
    }
}

/// <summary>The order of encoded keys: byte order, which KeyCodec makes key order (the order of segments and of ties).</summary>
internal sealed class KeyOrder : IComparer<byte[]>
{
    public static KeyOrder Instance { get; } = new();

    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}

/// <summary>
/// The k nearest (distance, key) pairs offered, in any key order: once full, a row at the k-th
/// distance may still win on its key, so the limit is the k-th distance itself (inclusive).
/// </summary>
internal sealed class KeyedTopK(int k, int maxDistance)
{
    private readonly PriorityQueue<KeyedNeighbor, KeyedNeighbor> _worstFirst = new(Comparer<KeyedNeighbor>.Create((a, b) => b.CompareTo(a)));

    public int Limit => _worstFirst.Count < k ? maxDistance : _worstFirst.Peek().Distance;

    public void Offer(byte[] key, int distance) => Offer(new KeyedNeighbor(key, distance));

    public void Offer(KeyedNeighbor candidate)
    {
        if (_worstFirst.Count < k)
        {
            _worstFirst.Enqueue(candidate, candidate);
        }
        else if (candidate.CompareTo(_worstFirst.Peek()) < 0)
        {
            _worstFirst.DequeueEnqueue(candidate, candidate);
        }
    }

    public List<KeyedNeighbor> ToSortedList()
    {
        var result = _worstFirst.UnorderedItems.Select(item => item.Element).ToList();
        result.Sort();
        return result;
    }
}
