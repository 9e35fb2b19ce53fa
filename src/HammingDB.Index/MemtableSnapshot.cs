using HammingDB.Kernels;

namespace HammingDB.Index;

/// <summary>A consistent, read-only view of a <see cref="Memtable"/>: the rows live at one sequence.</summary>
internal sealed class MemtableSnapshot
{
    private readonly Memtable.Chunk[] _chunks;

    internal MemtableSnapshot(Memtable memtable, Memtable.Chunk[] chunks, int rows, long sequence)
    {
        Memtable = memtable;
        _chunks = chunks;
        Rows = rows;
        Sequence = sequence;
    }

    public Memtable Memtable { get; }

    /// <summary>Rows this view may see (some of them superseded or deleted).</summary>
    public int Rows { get; }

    public long Sequence { get; }

    /// <summary>Whether <paramref name="row"/> is live in this view.</summary>
    public bool IsVisible(int row)
    {
        Memtable.Chunk chunk = _chunks[row / Memtable.ChunkRows];
        int index = row % Memtable.ChunkRows;
        return row < Rows && chunk.StartedAt[index] <= Sequence && Volatile.Read(ref chunk.EndedAt[index]) > Sequence;
    }

    public byte[] Key(int row) => _chunks[row / Memtable.ChunkRows].Keys[row % Memtable.ChunkRows];

    public ReadOnlySpan<ulong> Code(int row) => _chunks[row / Memtable.ChunkRows].Codes[row % Memtable.ChunkRows];

    public byte[]? Payload(int row) => _chunks[row / Memtable.ChunkRows].Payloads?[row % Memtable.ChunkRows];

    public float[]? Vector(int row) => Memtable.VectorDimension == 0 ? null
        : _chunks[row / Memtable.ChunkRows].Vectors.AsSpan(row % Memtable.ChunkRows * Memtable.VectorDimension, Memtable.VectorDimension).ToArray();

    /// <summary>The vector of <paramref name="row"/> in place (float32, as written); empty without vectors.</summary>
    public ReadOnlySpan<float> VectorSpan(int row) => Memtable.VectorDimension == 0 ? default
        : _chunks[row / Memtable.ChunkRows].Vectors.AsSpan(row % Memtable.ChunkRows * Memtable.VectorDimension, Memtable.VectorDimension);

    /// <summary>The visible rows nearest <paramref name="query"/>, ordered by distance then key, each with its row (<see cref="KeyedNeighbor.Row"/>).</summary>
    public List<KeyedNeighbor> Knn(ReadOnlySpan<ulong> query, int k, IsaLevel? isa = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var collector = new KeyedTopK(k, Memtable.Layout.CodeBits);
        ScanChunks(query, isa, (row, distance) => collector.Offer(new KeyedNeighbor(Key(row), distance) { Source = KeyedNeighbor.Memtable, Row = row }),
            () => collector.Limit, cancellationToken);
        return collector.ToSortedList();
    }

    /// <summary>Every visible row within <paramref name="radius"/> of <paramref name="query"/>, ordered by distance then key.</summary>
    public List<KeyedNeighbor> Radius(ReadOnlySpan<ulong> query, int radius, IsaLevel? isa = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        var result = new List<KeyedNeighbor>();
        ScanChunks(query, isa, (row, distance) => result.Add(new KeyedNeighbor(Key(row), distance)), () => radius, cancellationToken);
        result.Sort();
        return result;
    }

    private void ScanChunks(ReadOnlySpan<ulong> query, IsaLevel? isa, Action<int, int> accept, Func<int> limit, CancellationToken cancellationToken)
    {
        for (int c = 0; c * Memtable.ChunkRows < Rows; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(Memtable.ChunkRows, Rows - c * Memtable.ChunkRows);
            var sink = new VisibleSink(this, c * Memtable.ChunkRows, accept, limit);
            ExhaustiveSearch.Scan(_chunks[c].Codes.Block.Slice(0, count), query, ref sink, isa);
            GC.KeepAlive(_chunks[c].Codes);
        }
    }

    // Passes on only the rows visible in this snapshot.
    private readonly struct VisibleSink(MemtableSnapshot snapshot, int rowBase, Action<int, int> accept, Func<int> limit) : IScanSink
    {
        public int Limit => limit();

        public void Accept(int row, int distance)
        {
            if (snapshot.IsVisible(rowBase + row))
            {
                accept(rowBase + row, distance);
            }
        }
    }
}
