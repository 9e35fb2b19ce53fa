namespace HammingDB.Encoders.Data;

/// <summary>
/// The exact nearest base rows of each query, nearest first: <see cref="K"/> ids per query (the
/// content of a .gt file, or of a classic ground-truth .ivecs file).
/// </summary>
public sealed class GroundTruth
{
    /// <summary>Wraps <paramref name="ids"/> (not copied): <paramref name="k"/> base-row ids per query, nearest first.</summary>
    /// <exception cref="ArgumentException">The array is not whole rows of <paramref name="k"/>, or an id is negative.</exception>
    public GroundTruth(int[] ids, int k)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        if (ids.Length % k != 0)
        {
            throw new ArgumentException($"{ids.Length} ids are not whole rows of {k}", nameof(ids));
        }
        int negative = Array.FindIndex(ids, id => id < 0);
        if (negative >= 0)
        {
            throw new ArgumentException($"query {negative / k}, neighbour {negative % k}: id {ids[negative]} is negative", nameof(ids));
        }
        Ids = ids;
        K = k;
        QueryCount = ids.Length / k;
    }

    /// <summary>The ids of every query, one query after another.</summary>
    public int[] Ids { get; }

    /// <summary>Neighbours listed per query.</summary>
    public int K { get; }

    /// <summary>The number of queries.</summary>
    public int QueryCount { get; }

    /// <summary>The <see cref="K"/> nearest base rows of query <paramref name="query"/>, nearest first.</summary>
    public ReadOnlySpan<int> Neighbors(int query)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)query, (uint)QueryCount, nameof(query));
        return Ids.AsSpan(query * K, K);
    }
}
