using HammingDB.Encoders;

namespace HammingDB.Cli.Commands;

/// <summary>The trained encoder stored in a collection (by <c>hdb train</c> or <see cref="VectorCollection"/>), if it has one.</summary>
internal static class StoredEncoder
{
    /// <summary>The encoder of <paramref name="info"/>'s collection, or null when it has none.</summary>
    /// <exception cref="InvalidDataException">The stored encoder is damaged (a storage error, exit 3).</exception>
    public static VectorEncoder? Load(HammingDatabase db, CollectionInfo info) => DatabaseSession.Run(db, info, new LoadAction(db));

    /// <summary>The encoder stored in <paramref name="collection"/>, or null when it has none.</summary>
    public static VectorEncoder? Load<TKey>(HammingDatabase db, HammingCollection<TKey> collection)
        where TKey : notnull =>
        collection.AttachmentNames.Contains(VectorCollection.EncoderAttachment) ? VectorCollection.Open<TKey>(db, collection.Name).Encoder : null;

    /// <summary>Why float vectors cannot go into collection <paramref name="info"/>: it has no encoder; says how to train one.</summary>
    public static string Missing(HammingDatabase db, CollectionInfo info) =>
        $"collection '{info.Name}' has no encoder to turn float vectors into codes; train one with " +
        $"'hdb train {db.Path} --collection NEW --method lsh|itq|... --bits N --input FILE' (into a new or empty collection)";

    private sealed class LoadAction(HammingDatabase db) : ICollectionAction<VectorEncoder?>
    {
        public VectorEncoder? Run<TKey>(HammingCollection<TKey> collection, CollectionInfo info, Input.KeyFormat<TKey> keys)
            where TKey : notnull => Load(db, collection);
    }
}
