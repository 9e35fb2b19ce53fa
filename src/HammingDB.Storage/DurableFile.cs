namespace HammingDB.Storage;

/// <summary>The one way a file that must survive a crash is put in place.</summary>
internal static class DurableFile
{
    /// <summary>
    /// Writes <paramref name="name"/> in <paramref name="directory"/> so that after a crash it is
    /// either its previous version (or absent) or complete: written under a temporary name,
    /// synced, renamed over the old one, and the directory synced. A failure before the rename removes the
    /// temporary file. <paramref name="points"/> names the kill point after each of the four steps.
    /// </summary>
    public static void Replace(IFileSystem fileSystem, string directory, string name, KillPoints.Durable points, Action<IStorageFile> write)
    {
        string temp = Path.Combine(directory, FileNames.Temp(name));
        fileSystem.Delete(temp);
        try
        {
            using (IStorageFile file = fileSystem.Create(temp))
            {
                write(file);
                KillPoints.Hit(points.Written);
                file.Sync();
            }
            KillPoints.Hit(points.Synced);
            fileSystem.Rename(temp, Path.Combine(directory, name));
            KillPoints.Hit(points.Renamed);
        }
        catch
        {
            // Not in place: the partial file goes at once (on a full disk it holds the space the next step needs).
            try
            {
                fileSystem.Delete(temp);
            }
            catch (StorageException)
            {
                // The next open removes it (a temporary name is never live).
            }
            throw;
        }
        fileSystem.SyncDirectory(directory);
        KillPoints.Hit(points.DirectorySynced);
    }
}
