namespace HammingDB.Kernels;

/// <summary>One search result: a row id and its Hamming distance to the query.</summary>
/// <remarks>Results are ordered by distance, then by id (the smaller id wins a tie).</remarks>
public readonly record struct Neighbor(long Id, int Distance) : IComparable<Neighbor>
{
    /// <inheritdoc />
    public int CompareTo(Neighbor other)
    {
        int byDistance = Distance.CompareTo(other.Distance);
        return byDistance != 0 ? byDistance : Id.CompareTo(other.Id);
    }

    /// <summary>Orders by distance, then id.</summary>
    public static bool operator <(Neighbor left, Neighbor right) => left.CompareTo(right) < 0;

    /// <summary>Orders by distance, then id.</summary>
    public static bool operator >(Neighbor left, Neighbor right) => left.CompareTo(right) > 0;

    /// <summary>Orders by distance, then id.</summary>
    public static bool operator <=(Neighbor left, Neighbor right) => left.CompareTo(right) <= 0;

    /// <summary>Orders by distance, then id.</summary>
    public static bool operator >=(Neighbor left, Neighbor right) => left.CompareTo(right) >= 0;
}
