using System.Collections.Immutable;
using HammingDB.Index;
using HammingDB.Kernels;
using HammingDB.Kernels.Scan;
using HammingDB.Keys;
using HammingDB.Writing;

namespace HammingDB;

/// <summary>
/// A collection of codes keyed by <typeparamref name="TKey"/>. Writes are durable when they return;
/// searches are exact (k nearest with ties broken by key, or every code within a radius) and run on a
/// consistent view, from any number of threads.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "A collection is the database's unit of data (DESIGN.md), not a .NET collection type.")]
public sealed partial class HammingCollection<TKey>
    where TKey : notnull
{
    private readonly HammingDatabase _database;
    private readonly CollectionRuntime _runtime;

    internal HammingCollection(HammingDatabase database, CollectionRuntime runtime)
    {
        _database = database;
        _runtime = runtime;
    }

    /// <summary>The collection's name.</summary>
    public string Name => _runtime.Definition.Name;

    /// <summary>The layout of its codes.</summary>
    public CodeLayout Layout => _runtime.Shape.Layout;

    /// <summary>The dimension of the float vector every row carries, or 0 for none.</summary>
    public int VectorDimension => _runtime.Definition.VectorDimension;

    /// <summary>How sealed segments store the vectors (rows not yet sealed are read as written).</summary>
    public VectorStorage VectorStorage => (VectorStorage)_runtime.Definition.VectorKind;

    /// <summary>Rows with a live key now.</summary>
    public long Count
    {
        get
        {
            using ViewLease view = _runtime.Lease();
            long sealedRows = view.Segments.Sum(s => (long)s.LiveRows);
            return sealedRows + Enumerable.Range(0, view.Memtable.Rows).Count(view.Memtable.IsVisible);
        }
    }

    /// <summary>Inserts or replaces the row of <paramref name="key"/>; returns once it is durable.</summary>
    /// <exception cref="ArgumentException">The code, payload or vector does not fit the collection.</exception>
    /// <exception cref="ReadOnlyDatabaseException">The database is open read-only.</exception>
    public void Upsert(TKey key, ReadOnlySpan<ulong> code, byte[]? payload = null, ReadOnlySpan<float> vector = default)
    {
        _database.ThrowIfReadOnly(nameof(Upsert));
        var batch = NewBatch();
        batch.Upsert(key, code, payload, vector);
        Apply(batch);
    }

    /// <summary>
    /// Inserts the row of <paramref name="key"/> unless the key has a live row; returns whether it was
    /// inserted, once durable. Decided in log order, so concurrent inserts of one key insert it once.
    /// </summary>
    /// <exception cref="ArgumentException">The code, payload or vector does not fit the collection.</exception>
    /// <exception cref="ReadOnlyDatabaseException">The database is open read-only.</exception>
    public bool Insert(TKey key, ReadOnlySpan<ulong> code, byte[]? payload = null, ReadOnlySpan<float> vector = default)
    {
        _database.ThrowIfReadOnly(nameof(Insert));
        var batch = NewBatch();
        batch.Insert(key, code, payload, vector);
        return !_database.WriteDelete(_runtime, batch.Batch, batch.Entries[0]);
    }

    /// <summary>Deletes the row of <paramref name="key"/>; false when there was none. Returns once durable.</summary>
    /// <exception cref="ReadOnlyDatabaseException">The database is open read-only.</exception>
    public bool Delete(TKey key)
    {
        _database.ThrowIfReadOnly(nameof(Delete));
        var batch = NewBatch();
        batch.Delete(key);
        return _database.WriteDelete(_runtime, batch.Batch, batch.Entries[0]);
    }

    /// <summary>A batch of upserts, inserts and deletes for this collection, applied together by <see cref="Apply"/>.</summary>
    public CollectionBatch<TKey> NewBatch() => new(_runtime.Definition.Id, _runtime.Shape);

    /// <summary>Makes <paramref name="batch"/> durable as one unit, then applies it.</summary>
    /// <exception cref="ReadOnlyDatabaseException">The database is open read-only.</exception>
    public void Apply(CollectionBatch<TKey> batch)
    {
        _database.ThrowIfReadOnly(nameof(Apply));
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.CollectionId != _runtime.Definition.Id)
        {
            throw new ArgumentException("The batch was made for another collection.", nameof(batch));
        }
        _database.Write(_runtime, batch.Batch, batch.Entries);
    }

    /// <summary>The row of <paramref name="key"/>, if it has one.</summary>
    public bool TryGet(TKey key, out StoredRow<TKey>? row)
    {
        byte[] encoded = KeyCodecFor<TKey>.Encode(key);
        row = null;
        // Memtable first, and memtable and segments of one moment: during a seal the key index may
        // already point into the new segment, but the row is then still in this memtable.
        lock (_runtime.Gate)
        {
            if (_runtime.Memtable.TryGetRow(encoded, out int memRow))
            {
                MemtableSnapshot snapshot = _runtime.Memtable.Snapshot();
                row = new StoredRow<TKey>(key, snapshot.Code(memRow).ToArray(), snapshot.Payload(memRow), snapshot.Vector(memRow));
                return true;
            }
            if (_database.FindSealed(_runtime, encoded) is (int index, int sealedRow))
            {
                var reader = _runtime.Segments[index].Reader;
                row = new StoredRow<TKey>(key, reader.Codes[sealedRow].ToArray(), reader.HasPayloads ? reader.GetPayload(sealedRow) : null,
                    reader.VectorDimension > 0 ? reader.GetVector(sealedRow) : null);
                return true;
            }
        }
        return false;
    }
}

/// <summary>Upserts and deletes for one collection, made durable together by <see cref="HammingCollection{TKey}.Apply"/>.</summary>
public sealed class CollectionBatch<TKey>
    where TKey : notnull
{
    private readonly List<BatchEntry> _entries = [];

    internal CollectionBatch(uint collectionId, CollectionShape shape)
    {
        CollectionId = collectionId;
        Batch = new WriteBatch(collectionId, shape);
    }

    internal uint CollectionId { get; }

    internal WriteBatch Batch { get; }

    internal IReadOnlyList<BatchEntry> Entries => _entries;

    /// <summary>Operations in the batch.</summary>
    public int Count => _entries.Count;

    /// <summary>Adds an upsert, checked now (width, padding, payload, vector dimension, NaN): a bad row is refused and nothing is added.</summary>
    public void Upsert(TKey key, ReadOnlySpan<ulong> code, byte[]? payload = null, ReadOnlySpan<float> vector = default)
    {
        byte[] encoded = KeyCodecFor<TKey>.Encode(key);
        Batch.Upsert(encoded, code, payload ?? [], payload is not null, vector);
        _entries.Add(new BatchEntry(BatchOperation.Upsert, encoded, code.ToArray(), payload, vector.IsEmpty ? null : vector.ToArray()));
    }

    /// <summary>Adds an insert: an upsert that is skipped when, at its turn in the batch, the key has a live row.</summary>
    public void Insert(TKey key, ReadOnlySpan<ulong> code, byte[]? payload = null, ReadOnlySpan<float> vector = default)
    {
        byte[] encoded = KeyCodecFor<TKey>.Encode(key);
        Batch.Insert(encoded, code, payload ?? [], payload is not null, vector);
        _entries.Add(new BatchEntry(BatchOperation.Insert, encoded, code.ToArray(), payload, vector.IsEmpty ? null : vector.ToArray()));
    }

    /// <summary>Adds a delete.</summary>
    public void Delete(TKey key)
    {
        byte[] encoded = KeyCodecFor<TKey>.Encode(key);
        Batch.Delete(encoded);
        _entries.Add(new BatchEntry(BatchOperation.Delete, encoded, null, null, null));
    }
}
