using HammingDB.Cli.Input;

namespace HammingDB.Cli.Commands;

/// <summary>Opening a database for a command, finding a collection, and running typed code for it.</summary>
internal static class DatabaseSession
{
    /// <summary>
    /// Opens the database in <paramref name="path"/>. Every command but <c>create</c> needs one to be
    /// there: a missing or empty directory is bad input rather than a new, empty database.
    /// </summary>
    public static HammingDatabase Open(string path, bool create = false, DatabaseOptions? options = null)
    {
        if (!create && (!Directory.Exists(path) || !Directory.EnumerateFileSystemEntries(path).Any()))
        {
            throw new InputException($"{path}: no database there (create one with 'hdb create {path} --bits N').");
        }
        return HammingDatabase.Open(path, options);
    }

    /// <summary>
    /// Opens the database in <paramref name="path"/> read-only, for the commands that only read (query, explain,
    /// get, stats, export): they change no file (no seal at close, no log cut, no cleanup), work on a read-only
    /// mount, and fail at once while a writer has the database open.
    /// </summary>
    public static HammingDatabase OpenReadOnly(string path) => Open(path, options: DatabaseOptions.Default with { ReadOnly = true });

    /// <summary>The collection named <paramref name="name"/>; an unknown name is bad input listing the names there are.</summary>
    public static CollectionInfo Find(HammingDatabase db, string name)
    {
        IReadOnlyList<CollectionInfo> all = db.Collections;
        foreach (CollectionInfo info in all)
        {
            if (info.Name == name)
            {
                return info;
            }
        }
        string names = all.Count == 0 ? "it has none" : "it has " + string.Join(", ", all.Select(c => $"'{c.Name}'"));
        throw new InputException($"{db.Path}: no collection named '{name}' ({names}).");
    }

    /// <summary>
    /// For the search commands: opens the database, finds the collection, reads every query code of
    /// <paramref name="file"/> (or stdin) first (bad input searches nothing), then runs the action
    /// <paramref name="search"/> makes of them.
    /// </summary>
    public static async Task<int> SearchAsync(string database, string collection, string? file, InputFormat format, CliContext context,
        Func<List<ulong[]>, ICollectionAction<bool>> search)
    {
        using HammingDatabase db = OpenReadOnly(database);
        CollectionInfo info = Find(db, collection);
        List<ulong[]> queries;
        using (InputSource source = InputSource.Open(file, context.Stdin))
        {
            queries = await QueryReader.ReadAsync(source, format, new Kernels.CodeLayout(info.CodeBits), info.Name,
                "this command takes query codes only (hex, hdbc, or ndjson with \"code\"); 'hdb query' takes float vectors").ConfigureAwait(false);
        }
        Run(db, info, search(queries));
        context.Stdout.Flush();
        return ExitCodes.Ok;
    }

    /// <summary>Runs <paramref name="action"/> with the collection, typed by its key type.</summary>
    public static TResult Run<TResult>(HammingDatabase db, CollectionInfo info, ICollectionAction<TResult> action) =>
        KeyFormats.Dispatch(info.KeyType, new Bound<TResult>(db, info, action));

    /// <summary>The collection's stats now.</summary>
    public static CollectionStats Stats(HammingDatabase db, CollectionInfo info) => Run(db, info, new StatsAction());

    private sealed class Bound<TResult>(HammingDatabase db, CollectionInfo info, ICollectionAction<TResult> action) : IKeyedAction<TResult>
    {
        public TResult Run<TKey>(KeyFormat<TKey> keys)
            where TKey : notnull => action.Run(db.GetCollection<TKey>(info.Name), info, keys);
    }

    private sealed class StatsAction : ICollectionAction<CollectionStats>
    {
        public CollectionStats Run<TKey>(HammingCollection<TKey> collection, CollectionInfo info, KeyFormat<TKey> keys)
            where TKey : notnull => collection.GetStats();
    }
}

/// <summary>Code that runs on a collection of any key type (see <see cref="DatabaseSession.Run{TResult}"/>).</summary>
internal interface ICollectionAction<out TResult>
{
    TResult Run<TKey>(HammingCollection<TKey> collection, CollectionInfo info, KeyFormat<TKey> keys)
        where TKey : notnull;
}
