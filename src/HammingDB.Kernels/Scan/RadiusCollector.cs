namespace HammingDB.Kernels.Scan;

/// <summary>Every row offered, in offer order (ascending ids within one scan stream).</summary>
internal sealed class RadiusCollector
{
    private long[] _ids = new long[16];
    private int[] _distances = new int[16];

    public int Count { get; private set; }

    public void Add(long id, int distance)
    {
        if (Count == _ids.Length)
        {
            Grow();
        }
        _ids[Count] = id;
        _distances[Count] = distance;
        Count++;
    }

    /// <summary>
    /// The rows of all <paramref name="parts"/> sorted by distance, then id. Each part must hold
    /// ascending ids and the parts must cover ascending id ranges in order: then a stable
    /// counting sort by distance (O(rows + maxDistance)) yields (distance, id) order.
    /// </summary>
    public static Neighbor[] MergeSorted(ReadOnlySpan<RadiusCollector> parts, int maxDistance)
    {
        long total = 0;
        foreach (RadiusCollector part in parts)
        {
            total += part.Count;
        }
        if (total > Array.MaxLength)
        {
            throw new InvalidOperationException($"The radius search matched {total} rows, more than one result array can hold.");
        }
        var starts = new int[maxDistance + 2];
        foreach (RadiusCollector part in parts)
        {
            for (int i = 0; i < part.Count; i++)
            {
                starts[part._distances[i] + 1]++;
            }
        }
        for (int d = 1; d < starts.Length; d++)
        {
            starts[d] += starts[d - 1];
        }
        var result = new Neighbor[total];
        foreach (RadiusCollector part in parts)
        {
            for (int i = 0; i < part.Count; i++)
            {
                int d = part._distances[i];
                result[starts[d]++] = new Neighbor(part._ids[i], d);
            }
        }
        return result;
    }

    private void Grow()
    {
        int size = (int)Math.Min(Array.MaxLength, (long)_ids.Length * 2);
        if (size == _ids.Length)
        {
            throw new InvalidOperationException("The radius search matched more rows than one result array can hold.");
        }
        Array.Resize(ref _ids, size);
        Array.Resize(ref _distances, size);
    }
}
