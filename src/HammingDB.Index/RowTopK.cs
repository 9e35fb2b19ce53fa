namespace HammingDB.Index;

/// <summary>
/// The k nearest rows of one segment scan by (distance, row), for rows offered in ascending order:
/// a row tied with the k-th distance can never displace an earlier one, so once full the limit is
/// the k-th distance minus one. In a segment, row order is key order.
/// </summary>
internal sealed class RowTopK(int k, int maxDistance)
{
    private readonly PriorityQueue<(int Row, int Distance), (int Distance, int Row)> _worstFirst =
        new(Comparer<(int Distance, int Row)>.Create((a, b) => b.CompareTo(a)));

    public int Limit => _worstFirst.Count < k ? maxDistance : _worstFirst.Peek().Distance - 1;

    public void Offer(int row, int distance)
    {
        if (_worstFirst.Count < k)
        {
            _worstFirst.Enqueue((row, distance), (distance, row));
        }
        else if (distance < _worstFirst.Peek().Distance)
        {
            _worstFirst.DequeueEnqueue((row, distance), (distance, row));
        }
    }

    /// <summary>The rows held, nearest first, ties by row.</summary>
    public List<(int Row, int Distance)> ToList()
    {
        var result = _worstFirst.UnorderedItems.Select(item => item.Element).ToList();
        result.Sort((a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Row.CompareTo(b.Row));
        return result;
    }
}
