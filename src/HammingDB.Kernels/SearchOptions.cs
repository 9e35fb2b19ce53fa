namespace HammingDB.Kernels;

/// <summary>How an exhaustive search runs. The defaults suit one query on one thread.</summary>
public sealed record SearchOptions
{
    /// <summary>The default options.</summary>
    public static SearchOptions Default { get; } = new();

    /// <summary>The kernel path; null for <see cref="Kernels.Isa.Default"/>.</summary>
    public IsaLevel? Isa { get; init; }

    /// <summary>
    /// Threads to use: a single query's codes are split among them; a batch's queries are.
    /// </summary>
    public int Threads { get; init; } = 1;

    /// <summary>
    /// Bytes of codes per tile in batch searches: every query of a thread's share runs over one
    /// tile while it is in cache before the next tile is read. About half of L2 suits.
    /// </summary>
    public int TileBytes { get; init; } = 256 * 1024;

    internal void Validate()
    {
        if (Threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "Threads must be at least 1.");
        }
        if (TileBytes < 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(TileBytes), TileBytes, "TileBytes must be at least 4096.");
        }
    }
}
