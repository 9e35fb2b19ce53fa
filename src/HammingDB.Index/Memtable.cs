using HammingDB.Kernels;
using HammingDB.Storage.Segments;

namespace HammingDB.Index;

/// <summary>
/// The newest rows of one collection, in memory, until they are sealed into a segment. One writer
/// appends and deletes; any number of readers search consistent snapshots at the same time.
/// </summary>
/// <remarks>
/// Rows are appended, never moved: codes in fixed chunks of <see cref="ChunkRows"/> that the kernels
/// scan in place. A row is never removed either: an upsert or delete records the sequence number at
/// which the row stopped being live, and a snapshot (row count, sequence) sees row r iff
/// r &lt; its row count and r stopped being live after its sequence. So later writes never change
/// what an earlier snapshot sees. Each row is fully written before the row count that publishes it.
/// </remarks>
internal sealed class Memtable
{
    public const int ChunkRows = 1 << 16;

    private readonly Dictionary<byte[], int> _live = new(KeyComparer.Instance);
    private Chunk[] _chunks = [];
    private int _rows;
    private long _sequence;

    public Memtable(CodeLayout layout, KeyKind keyKind, bool hasPayloads, int vectorDimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(vectorDimension);
        Layout = layout;
        KeyKind = keyKind;
        HasPayloads = hasPayloads;
        VectorDimension = vectorDimension;
    }

    public CodeLayout Layout { get; }

    public KeyKind KeyKind { get; }

    public bool HasPayloads { get; }

    public int VectorDimension { get; }

    /// <summary>Rows appended, live or not.</summary>
    public int Rows => Volatile.Read(ref _rows);

    /// <summary>Keys with a live row (writer thread only).</summary>
    public int LiveRows => _live.Count;

    /// <summary>A consistent view of the rows and deletions so far.</summary>
    public MemtableSnapshot Snapshot()
    {
        long sequence = Volatile.Read(ref _sequence);
        return new MemtableSnapshot(this, Volatile.Read(ref _chunks), Volatile.Read(ref _rows), sequence);
    }

    /// <summary>Inserts or replaces the row of <paramref name="key"/> (writer thread only).</summary>
    public void Upsert(byte[] key, ReadOnlySpan<ulong> code, byte[]? payload, ReadOnlySpan<float> vector)
    {
        ArgumentNullException.ThrowIfNull(key);
        int fixedBytes = SegmentFormat.FixedKeyBytes(KeyKind);
        if (fixedBytes > 0 ? key.Length != fixedBytes : key.Length > SegmentFormat.MaxStringKeyBytes)
        {
            // Refused here, not at seal time, where a bad key would leave the writer stuck.
            throw new ArgumentException($"A {KeyKind} key cannot be {key.Length} bytes.", nameof(key));
        }
        Layout.Validate(code, nameof(code));
        if (HasPayloads != payload is not null)
        {
            throw new ArgumentException(HasPayloads ? "This collection stores a payload with every row." : "This collection stores no payloads.", nameof(payload));
        }
        if (vector.Length != VectorDimension)
        {
            throw new ArgumentException($"This collection stores vectors of dimension {VectorDimension}; got {vector.Length}.", nameof(vector));
        }
        long sequence = _sequence + 1;
        int row = _rows;
        Chunk chunk = ChunkFor(row);
        int index = row % ChunkRows;
        chunk.Codes.Add(code);
        chunk.Keys[index] = key;
        if (payload is not null)
        {
            chunk.Payloads![index] = payload;
        }
        vector.CopyTo(chunk.Vectors.AsSpan(index * VectorDimension, VectorDimension));
        chunk.EndedAt[index] = long.MaxValue;
        chunk.StartedAt[index] = sequence;
        ref int live = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_live, key, out bool existed);
        if (existed)
        {
            Volatile.Write(ref EndedAt(live), sequence);
        }
        live = row;
        Volatile.Write(ref _rows, row + 1);
        Volatile.Write(ref _sequence, sequence);
    }

    /// <summary>Deletes the row of <paramref name="key"/>; false when it has none (writer thread only).</summary>
    public bool Delete(byte[] key)
    {
        if (!_live.Remove(key, out int row))
        {
            return false;
        }
        long sequence = _sequence + 1;
        Volatile.Write(ref EndedAt(row), sequence);
        Volatile.Write(ref _sequence, sequence);
        return true;
    }

    /// <summary>The live row of <paramref name="key"/> (writer thread only).</summary>
    public bool TryGetRow(byte[] key, out int row) => _live.TryGetValue(key, out row);

    /// <summary>
    /// The live rows, sorted by key, ready to seal into a segment (writer thread only); the segment stores
    /// the vectors as <paramref name="vectorKind"/> (the memtable keeps float32).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public SegmentContents ToSegmentContents(int mihMinRows, VectorKind vectorKind = VectorKind.Float32)
    {
        // Runs once per seal, on up to SealRows rows: optimised at once rather than tier-0 code.
        var sortedKeys = new byte[_live.Count][];
        var rows = new int[_live.Count];
        int n = 0;
        foreach (KeyValuePair<byte[], int> entry in _live)
        {
            sortedKeys[n] = entry.Key;
            rows[n++] = entry.Value;
        }
        Array.Sort(sortedKeys, rows, KeyOrder.Instance);
        var codes = new PackedCodes(Layout, rows.Length);
        var keys = new List<byte[]>(rows.Length);
        var payloads = HasPayloads ? new List<byte[]>(rows.Length) : null;
        var vectors = new float[(long)rows.Length * VectorDimension];
        for (int i = 0; i < rows.Length; i++)
        {
            int row = rows[i];
            Chunk chunk = _chunks[row / ChunkRows];
            int index = row % ChunkRows;
            codes.Add(chunk.Codes[index]);
            keys.Add(chunk.Keys[index]);
            payloads?.Add(chunk.Payloads![index]);
            chunk.Vectors.AsSpan(index * VectorDimension, VectorDimension).CopyTo(vectors.AsSpan(i * VectorDimension));
        }
        return new SegmentContents
        {
            Codes = codes, KeyKind = KeyKind, Keys = keys, Payloads = payloads, Vectors = vectors, VectorDimension = VectorDimension, VectorKind = vectorKind,
            MihTables = Mih.SegmentTables.Build(codes.Block, mihMinRows),
        };
    }

    private ref long EndedAt(int row) => ref _chunks[row / ChunkRows].EndedAt[row % ChunkRows];

    private Chunk ChunkFor(int row)
    {
        int chunk = row / ChunkRows;
        if (chunk == _chunks.Length)
        {
            var grown = new Chunk[chunk + 1];
            _chunks.CopyTo(grown, 0);
            grown[chunk] = new Chunk(Layout, HasPayloads, VectorDimension);
            Volatile.Write(ref _chunks, grown);
        }
        return _chunks[chunk];
    }


    /// <summary>One block of rows: never moved once allocated, so snapshots can hold on to it.</summary>
    internal sealed class Chunk(CodeLayout layout, bool hasPayloads, int vectorDimension)
    {
        public PackedCodes Codes { get; } = new(layout, ChunkRows);

        public byte[][] Keys { get; } = new byte[ChunkRows][];

        public byte[][]? Payloads { get; } = hasPayloads ? new byte[ChunkRows][] : null;

        public float[] Vectors { get; } = new float[ChunkRows * vectorDimension];

        /// <summary>The sequence at which each row was written.</summary>
        public long[] StartedAt { get; } = new long[ChunkRows];

        /// <summary>The sequence at which each row stopped being live (long.MaxValue while live).</summary>
        public long[] EndedAt { get; } = new long[ChunkRows];
    }
}
