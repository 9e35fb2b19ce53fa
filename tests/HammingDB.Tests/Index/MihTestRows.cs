using HammingDB.Index.Mih;
using HammingDB.Kernels;

namespace HammingDB.Tests.Index;

/// <summary>A radius sink that keeps the rows not marked deleted (as the engine's live-row sinks do).</summary>
internal struct KeptRadius(bool[] deleted, List<Neighbor> results) : IMihRadiusSink
{
    public readonly void Accept(int row, int distance)
    {
        if (!deleted[row])
        {
            results.Add(new Neighbor(row, distance));
        }
    }
}

/// <summary>A kNN row filter that keeps the rows not marked deleted.</summary>
internal readonly struct NotDeleted(bool[] deleted) : IRowFilter
{
    public bool Keep(int row) => !deleted[row];
}
