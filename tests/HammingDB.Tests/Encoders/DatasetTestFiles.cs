namespace HammingDB.Tests.Encoders;

/// <summary>A scratch directory for dataset files, removed on dispose; and where ../shared/data is.</summary>
internal sealed class DatasetTestFiles : IDisposable
{
    public DatasetTestFiles()
    {
        Directory = Path.Combine(Path.GetTempPath(), "hdb-dataset-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    public string WriteBytes(string name, byte[] bytes)
    {
        string path = PathOf(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    /// <summary>
    /// The shared data directory: $HAMMINGDB_DATA, else the first "shared/data" beside an ancestor of
    /// the test assembly's directory (the repository's ../shared/data, from a clone or a worktree).
    /// </summary>
    public static string SharedData()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("HAMMINGDB_DATA");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return fromEnvironment;
        }
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data");
            if (File.Exists(Path.Combine(candidate, "README.md")))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException(
            $"no shared/data directory above {AppContext.BaseDirectory}; set HAMMINGDB_DATA to the directory ../shared/data/README.md describes");
    }

    public static string Shared(string relative) => Path.Combine(SharedData(), relative);
}
