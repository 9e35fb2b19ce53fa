using System.Buffers.Binary;
using System.Text;

namespace HammingDB.Storage;

/// <summary>
/// The start every HammingDB file shares: an 8-byte magic, the u32 format version at offset 8, the
/// format's own fields, and in the header's last 4 bytes the CRC-32C of all the bytes before them.
/// </summary>
internal static class FileHeader
{
    /// <summary>Writes the magic and the version at the start of <paramref name="header"/> (cleared first).</summary>
    public static void Begin(Span<byte> header, ReadOnlySpan<byte> magic, uint version)
    {
        header.Clear();
        magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], version);
    }

    /// <summary>Writes the checksum into the last 4 bytes of <paramref name="header"/>, once its fields are filled.</summary>
    public static void Seal(Span<byte> header) =>
        BinaryPrimitives.WriteUInt32LittleEndian(header[^4..], Crc32C.Compute(header[..^4]));

    /// <summary>
    /// Checks the magic, the checksum and the version of a header of <paramref name="headerBytes"/>
    /// bytes at the start of <paramref name="bytes"/> (a <paramref name="kind"/> file at <paramref name="path"/>).
    /// </summary>
    /// <exception cref="CorruptionException">What is wrong, and where.</exception>
    public static void Check(ReadOnlySpan<byte> bytes, int headerBytes, ReadOnlySpan<byte> magic, uint version, string kind, string path) =>
        Check(bytes, headerBytes, magic, version, version, kind, path);

    /// <summary>
    /// Checks a header as <see cref="Check(ReadOnlySpan{byte}, int, ReadOnlySpan{byte}, uint, string, string)"/> does,
    /// accepting any version from <paramref name="oldestVersion"/> to <paramref name="newestVersion"/>; returns the version found.
    /// </summary>
    /// <exception cref="CorruptionException">What is wrong, and where.</exception>
    public static uint Check(ReadOnlySpan<byte> bytes, int headerBytes, ReadOnlySpan<byte> magic, uint oldestVersion, uint newestVersion, string kind, string path)
    {
        if (bytes.Length < headerBytes)
        {
            throw new CorruptionException(path, bytes.Length, $"the {kind} header needs {headerBytes} bytes; the file holds {bytes.Length}");
        }
        if (!bytes[..8].SequenceEqual(magic))
        {
            throw new CorruptionException(path, 0, $"no {kind} magic \"{Encoding.ASCII.GetString(magic)}\"");
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes[(headerBytes - 4)..]) != Crc32C.Compute(bytes[..(headerBytes - 4)]))
        {
            throw new CorruptionException(path, headerBytes - 4, $"the {kind} header checksum does not match");
        }
        uint found = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        if (found < oldestVersion || found > newestVersion)
        {
            string reads = oldestVersion == newestVersion ? $"version {newestVersion}" : $"versions {oldestVersion} to {newestVersion}";
            throw new CorruptionException(path, 8, $"{kind} format version {found}; this build reads {reads}");
        }
        return found;
    }
}
