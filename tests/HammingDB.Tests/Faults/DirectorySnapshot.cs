using System.Security.Cryptography;

namespace HammingDB.Tests.Faults;

/// <summary>
/// Every file and directory under a root: relative name, length, SHA-256 of the bytes and last write time (ticks), one
/// line each, sorted. Two equal snapshots mean nothing was created, removed, written or touched.
/// </summary>
internal static class DirectorySnapshot
{
    public static List<string> Take(string root)
    {
        var lines = new List<string>();
        foreach (string directory in Directory.GetDirectories(root, "*", SearchOption.AllDirectories))
        {
            lines.Add($"dir {Path.GetRelativePath(root, directory)} {Directory.GetLastWriteTimeUtc(directory).Ticks}");
        }
        foreach (string file in Directory.GetFiles(root, "*", SearchOption.AllDirectories))
        {
            byte[] bytes = File.ReadAllBytes(file);
            lines.Add($"file {Path.GetRelativePath(root, file)} {bytes.Length} {Convert.ToHexString(SHA256.HashData(bytes))} {File.GetLastWriteTimeUtc(file).Ticks}");
        }
        lines.Add($"root {Directory.GetLastWriteTimeUtc(root).Ticks}");
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }
}
