namespace HammingDB.Encoders;

/// <summary>
/// A collection of float vectors searched through their codes: its trained <see cref="VectorEncoder"/>
/// is stored inside the collection (the attachment <see cref="VectorCollection.EncoderAttachment"/>, in the encoder's
/// versioned format, docs/format/encoder.md), so that after a reopen inserts and queries of float
/// vectors are encoded exactly as before. Every row keeps its float vector (float32 or int8, as the
/// collection was created), which <see cref="KnnRescored"/> re-ranks by.
/// </summary>
/// <typeparam name="TKey"><see cref="ulong"/>, <see cref="string"/> or <see cref="Guid"/>.</typeparam>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "A collection is the database's unit of data (DESIGN.md), not a .NET collection type.")]
public sealed class VectorCollection<TKey>
    where TKey : notnull
{
    internal VectorCollection(HammingCollection<TKey> codes, VectorEncoder encoder)
    {
        Codes = codes;
        Encoder = encoder;
    }

    /// <summary>The underlying collection of codes (with the vectors beside them).</summary>
    public HammingCollection<TKey> Codes { get; }

    /// <summary>The encoder every vector and query goes through.</summary>
    public VectorEncoder Encoder { get; }

    /// <summary>The code of <paramref name="vector"/>.</summary>
    /// <exception cref="ArgumentException">The vector has the wrong dimension or is not finite.</exception>
    public ulong[] Encode(ReadOnlySpan<float> vector)
    {
        var code = new ulong[Encoder.Layout.WordsPerCode];
        Encoder.Encode(vector, code);
        return code;
    }

    /// <summary>Inserts or replaces the row of <paramref name="key"/>: the vector's code, the vector, and the payload.</summary>
    /// <exception cref="ArgumentException">The vector has the wrong dimension or is not finite, or the payload does not fit; nothing is written.</exception>
    public void Upsert(TKey key, ReadOnlySpan<float> vector, byte[]? payload = null) => Codes.Upsert(key, Encode(vector), payload, vector);

    /// <summary>Inserts the row unless <paramref name="key"/> has a live row (decided when applied).</summary>
    /// <exception cref="ArgumentException">The vector has the wrong dimension or is not finite, or the payload does not fit; nothing is written.</exception>
    public bool Insert(TKey key, ReadOnlySpan<float> vector, byte[]? payload = null) => Codes.Insert(key, Encode(vector), payload, vector);

    /// <summary>
    /// Upserts <paramref name="keys"/>.Count rows at once (one batch: all or nothing), row i's vector
    /// at <paramref name="vectors"/>[i * Dimension ..]. Every vector is checked before any is written.
    /// </summary>
    /// <exception cref="ArgumentException">The counts disagree, or a vector is not finite (its row is named); nothing is written.</exception>
    public void UpsertMany(IReadOnlyList<TKey> keys, ReadOnlySpan<float> vectors, IReadOnlyList<byte[]?>? payloads = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (payloads is not null && payloads.Count != keys.Count)
        {
            throw new ArgumentException($"{payloads.Count} payloads for {keys.Count} keys", nameof(payloads));
        }
        ulong[] codes = Encoder.EncodeMany(vectors, keys.Count);
        int words = Encoder.Layout.WordsPerCode;
        int dimension = Encoder.Dimension;
        CollectionBatch<TKey> batch = Codes.NewBatch();
        for (int i = 0; i < keys.Count; i++)
        {
            batch.Upsert(keys[i], codes.AsSpan(i * words, words), payloads?[i], vectors.Slice(i * dimension, dimension));
        }
        Codes.Apply(batch);
    }

    /// <summary>Deletes the row of <paramref name="key"/>; false when it has none.</summary>
    public bool Delete(TKey key) => Codes.Delete(key);

    /// <summary>The <paramref name="k"/> rows whose codes are nearest the query's code (Hamming distance, ties by key).</summary>
    /// <exception cref="ArgumentException">The query has the wrong dimension or is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is not positive.</exception>
    public IReadOnlyList<SearchResult<TKey>> Knn(ReadOnlySpan<float> query, int k, QueryPlan plan = QueryPlan.Auto) => Codes.Knn(Encode(query), k, plan);

    /// <summary>Every row whose code is within <paramref name="radius"/> of the query's code.</summary>
    /// <exception cref="ArgumentException">The query has the wrong dimension or is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="radius"/> is negative.</exception>
    public IReadOnlyList<SearchResult<TKey>> Radius(ReadOnlySpan<float> query, int radius, QueryPlan plan = QueryPlan.Auto) =>
        Codes.Radius(Encode(query), radius, plan);

    /// <summary>
    /// The <paramref name="k"/> nearest rows by <paramref name="metric"/> among the k * <paramref name="oversample"/>
    /// nearest by Hamming distance, with both distances.
    /// </summary>
    /// <exception cref="ArgumentException">The query has the wrong dimension or is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> or <paramref name="oversample"/> is not positive, or their product overflows.</exception>
    public IReadOnlyList<RescoredResult<TKey>> KnnRescored(ReadOnlySpan<float> query, int k, int oversample, VectorMetric metric = VectorMetric.L2,
        QueryPlan plan = QueryPlan.Auto) =>
        Codes.KnnRescored(Encode(query), query, k, oversample, metric, plan);
}

/// <summary>Creates and opens <see cref="VectorCollection{TKey}"/>s: collections whose trained encoder is stored inside them.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "A collection is the database's unit of data (DESIGN.md), not a .NET collection type.")]
public static class VectorCollection
{
    /// <summary>The name of the attachment holding the serialized encoder.</summary>
    public const string EncoderAttachment = "encoder";

    /// <summary>
    /// Creates collection <paramref name="name"/> with the encoder's code width and vector dimension,
    /// and stores <paramref name="encoder"/> in it (durable when this returns). Should a crash come
    /// between the two, the collection exists without an encoder: <see cref="Attach{TKey}"/> finishes it.
    /// </summary>
    /// <exception cref="ArgumentException">A collection of that name exists, or the name is invalid.</exception>
    public static VectorCollection<TKey> Create<TKey>(HammingDatabase database, string name, VectorEncoder encoder,
        VectorStorage storage = VectorStorage.Float32, bool payloads = false)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(encoder);
        byte[] serialized = encoder.Serialize(); // an encoder that cannot be stored fails before anything is created
        HammingCollection<TKey> codes = database.CreateCollection<TKey>(name, new CollectionOptions
        {
            CodeBits = encoder.CodeBits,
            VectorDimension = encoder.Dimension,
            VectorStorage = storage,
            Payloads = payloads,
        });
        codes.SetAttachment(EncoderAttachment, serialized);
        return new VectorCollection<TKey>(codes, encoder);
    }

    /// <summary>
    /// Stores <paramref name="encoder"/> in an existing collection of the encoder's width that keeps
    /// vectors of its dimension. The collection must be empty or have no encoder yet: codes made by
    /// another encoder would not be comparable with the new one's queries.
    /// </summary>
    /// <exception cref="ArgumentException">The width or the vector dimension does not match.</exception>
    /// <exception cref="InvalidOperationException">The collection holds rows and already has an encoder.</exception>
    public static VectorCollection<TKey> Attach<TKey>(HammingCollection<TKey> codes, VectorEncoder encoder)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(codes);
        ArgumentNullException.ThrowIfNull(encoder);
        if (codes.Layout.CodeBits != encoder.CodeBits)
        {
            throw new ArgumentException($"collection {codes.Name} holds {codes.Layout.CodeBits}-bit codes; the encoder makes {encoder.CodeBits}-bit codes", nameof(encoder));
        }
        if (codes.VectorDimension != encoder.Dimension)
        {
            throw new ArgumentException(codes.VectorDimension == 0
                ? $"collection {codes.Name} keeps no vectors; an encoder needs a collection created with VectorDimension {encoder.Dimension}"
                : $"collection {codes.Name} keeps vectors of dimension {codes.VectorDimension}; the encoder takes {encoder.Dimension}", nameof(encoder));
        }
        if (codes.Count > 0 && codes.AttachmentNames.Contains(EncoderAttachment))
        {
            throw new InvalidOperationException($"collection {codes.Name} holds {codes.Count} rows encoded by its current encoder; create a new collection for a new encoder");
        }
        codes.SetAttachment(EncoderAttachment, encoder.Serialize());
        return new VectorCollection<TKey>(codes, encoder);
    }

    /// <summary>Opens collection <paramref name="name"/> with the encoder stored in it.</summary>
    /// <exception cref="ArgumentException">There is no such collection.</exception>
    /// <exception cref="InvalidOperationException">The collection has no encoder.</exception>
    /// <exception cref="InvalidDataException">The stored encoder is damaged or does not fit the collection (the message names the collection).</exception>
    public static VectorCollection<TKey> Open<TKey>(HammingDatabase database, string name)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(database);
        HammingCollection<TKey> codes = database.GetCollection<TKey>(name);
        byte[] stored = codes.GetAttachment(EncoderAttachment)
            ?? throw new InvalidOperationException($"collection {name} has no encoder (train one and attach it)");
        VectorEncoder encoder;
        try
        {
            encoder = VectorEncoder.Deserialize(stored);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"collection {name}: its stored encoder is damaged: {e.Message}", e);
        }
        if (encoder.CodeBits != codes.Layout.CodeBits || encoder.Dimension != codes.VectorDimension)
        {
            throw new InvalidDataException($"collection {name}: its stored encoder makes {encoder.CodeBits}-bit codes from {encoder.Dimension} dimensions, "
                + $"but the collection holds {codes.Layout.CodeBits}-bit codes and {codes.VectorDimension}-dimensional vectors");
        }
        return new VectorCollection<TKey>(codes, encoder);
    }
}
