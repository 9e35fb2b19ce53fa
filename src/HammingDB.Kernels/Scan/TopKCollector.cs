namespace HammingDB.Kernels.Scan;

/// <summary>
/// The k nearest rows seen so far, as a max-heap on (distance, id), for rows offered in
/// ascending id order (one scan stream). Because ids ascend, a row at the current k-th distance
/// can never displace one already held, so once full the limit is the k-th distance minus one.
/// </summary>
internal sealed class TopKCollector
{
    private readonly int _capacity;
    private readonly int[] _distances;
    private readonly long[] _ids;
    private int _count;

    /// <param name="k">How many nearest rows to keep; the arrays are sized min(k, <paramref name="rowBound"/>).</param>
    /// <param name="rowBound">How many rows can be offered at most (bounds memory when k is huge).</param>
    /// <param name="maxDistance">The largest possible distance (the code width in bits).</param>
    public TopKCollector(int k, long rowBound, int maxDistance)
    {
        _capacity = (int)Math.Min(k, Math.Max(rowBound, 0));
        _distances = new int[_capacity];
        _ids = new long[_capacity];
        Limit = _capacity == 0 ? -1 : maxDistance;
    }

    /// <summary>The largest distance that can still enter; negative when none can.</summary>
    public int Limit { get; private set; }

    /// <summary>Offers a row; ids must not decrease from one call to the next.</summary>
    public void Offer(long id, int distance)
    {
        if (distance > Limit)
        {
            return;
        }
        if (_count < _capacity)
        {
            SiftUp(_count++, id, distance);
        }
        else
        {
            SiftDown(0, id, distance);
        }
        if (_count == _capacity)
        {
            Limit = _distances[0] - 1;
        }
    }

    /// <summary>The rows held, nearest first (ties by smaller id).</summary>
    public Neighbor[] ToSortedArray()
    {
        var result = new Neighbor[_count];
        for (int i = 0; i < _count; i++)
        {
            result[i] = new Neighbor(_ids[i], _distances[i]);
        }
        Array.Sort(result);
        return result;
    }

    // Heap order: parent >= child by (distance, id); the root is the worst row held.
    private static bool Greater(int d1, long id1, int d2, long id2) => d1 > d2 || (d1 == d2 && id1 > id2);

    private void SiftUp(int index, long id, int distance)
    {
        while (index > 0)
        {
            int parent = (index - 1) >> 1;
            if (!Greater(distance, id, _distances[parent], _ids[parent]))
            {
                break;
            }
            _distances[index] = _distances[parent];
            _ids[index] = _ids[parent];
            index = parent;
        }
        _distances[index] = distance;
        _ids[index] = id;
    }

    private void SiftDown(int index, long id, int distance)
    {
        while (true)
        {
            int child = 2 * index + 1;
            if (child >= _count)
            {
                break;
            }
            if (child + 1 < _count && Greater(_distances[child + 1], _ids[child + 1], _distances[child], _ids[child]))
            {
                child++;
            }
            if (!Greater(_distances[child], _ids[child], distance, id))
            {
                break;
            }
            _distances[index] = _distances[child];
            _ids[index] = _ids[child];
            index = child;
        }
        _distances[index] = distance;
        _ids[index] = id;
    }
}
