using HammingDB.Storage;
using HammingDB.Storage.Keys;

namespace HammingDB;

public sealed partial class HammingDatabase
{
    /// <summary>
    /// Verifies the database in <paramref name="path"/> completely and reports every problem with its
    /// file and offset: the manifest; every segment it names (header, footer, metadata, every code
    /// checksum, every key and payload block, keys strictly ascending, rows, width and key kind as the
    /// manifest says); every deletion bitmap it names; every record of the write-ahead log; files the
    /// manifest does not name; and the key index against the segments' keys. Changes no file: nothing
    /// is recovered, cut or removed, and the key index is read from a temporary copy.
    /// </summary>
    /// <returns>The problems found; <see cref="CheckReport.Ok"/> when none is damage. Damage is reported, never thrown.</returns>
    /// <exception cref="StorageException">Another process has the database open for writing, or the directory cannot be listed.</exception>
    public static CheckReport Check(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string directory = System.IO.Path.GetFullPath(path);
        return Check(PosixFileSystem.Instance, directory, new FasterKeyIndexStore(System.IO.Path.Combine(directory, KeyIndexDirectory)));
    }

    internal static CheckReport Check(IFileSystem fs, string directory, IKeyIndexStore keyIndexStore) =>
        new DatabaseChecker(fs, directory, keyIndexStore).Run();
}
