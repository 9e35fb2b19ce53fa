using System.Buffers.Binary;
using System.Text;

namespace HammingDB.Storage.Attachments;

/// <summary>
/// One version of one named attachment of a collection (format version 1, little-endian): a blob the
/// layers above keep with their collection (a trained encoder). Written once under a temporary name,
/// synced, renamed, directory synced (<see cref="DurableFile.Replace"/>), then named by the manifest;
/// a replaced or removed version's file is deleted after the manifest switch. Rationale:
/// docs/format/attachment.md.
/// <code>
/// header, 32 bytes:
///   0..7    magic "HDBATTCH"
///   8..11   u32 format version (1)
///   12..15  u32 collection id
///   16..23  u64 content bytes (at most 64 MiB)
///   24..25  u16 name bytes (1..64)
///   26..27  reserved (0)
///   28..31  u32 CRC-32C of bytes 0..27
/// 32..      the name (ASCII: a-z 0-9 . _ -), then the content
/// last 4    u32 CRC-32C of the name and the content
/// </code>
/// </summary>
internal static class AttachmentFile
{
    public const int HeaderBytes = 32;
    public const uint Version = 1;
    public const int MaxNameLength = 64;
    public const int MaxContentBytes = 64 << 20;

    private static ReadOnlySpan<byte> Magic => "HDBATTCH"u8;

    /// <summary>What is wrong with <paramref name="name"/> as an attachment name, or null: 1-64 characters of a-z, 0-9, '.', '_', '-'.</summary>
    public static string? NameProblem(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
        {
            return $"an attachment name has 1 to {MaxNameLength} characters; got {name?.Length ?? 0}";
        }
        foreach (char c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-'))
            {
                return $"an attachment name holds only a-z, 0-9, '.', '_' and '-'; '{name}' holds '{c}' (U+{(int)c:X4})";
            }
        }
        return null;
    }

    /// <summary>The bytes of an attachment file (name and content checked first).</summary>
    public static byte[] Encode(uint collectionId, string name, ReadOnlySpan<byte> content)
    {
        if (NameProblem(name) is { } problem)
        {
            throw new ArgumentException(problem, nameof(name));
        }
        if (content.Length > MaxContentBytes)
        {
            throw new ArgumentException($"An attachment holds at most {MaxContentBytes} bytes; got {content.Length}.", nameof(content));
        }
        int nameBytes = name.Length; // ASCII
        var bytes = new byte[HeaderBytes + nameBytes + content.Length + 4];
        Span<byte> header = bytes.AsSpan(0, HeaderBytes);
        FileHeader.Begin(header, Magic, Version);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], collectionId);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], (ulong)content.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[24..], (ushort)nameBytes);
        FileHeader.Seal(header);
        Encoding.ASCII.GetBytes(name, bytes.AsSpan(HeaderBytes));
        content.CopyTo(bytes.AsSpan(HeaderBytes + nameBytes));
        int bodyEnd = HeaderBytes + nameBytes + content.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bodyEnd), Crc32C.Compute(bytes.AsSpan(HeaderBytes, nameBytes + content.Length)));
        return bytes;
    }

    /// <summary>Writes attachment file <paramref name="fileNumber"/> durably (temporary name, sync, rename, directory sync).</summary>
    public static void Write(IFileSystem fileSystem, string directory, long fileNumber, uint collectionId, string name, ReadOnlySpan<byte> content)
    {
        byte[] bytes = Encode(collectionId, name, content);
        DurableFile.Replace(fileSystem, directory, FileNames.Attachment(fileNumber), KillPoints.Attachment, file => file.Write(0, bytes));
    }

    /// <summary>
    /// The content of attachment file <paramref name="fileNumber"/>, checked: header, both checksums, the
    /// length, and that it is <paramref name="name"/> of collection <paramref name="collectionId"/>.
    /// </summary>
    /// <exception cref="CorruptionException">The file is missing or damaged, or holds another attachment (the message names the file).</exception>
    public static byte[] Read(IFileSystem fileSystem, string directory, long fileNumber, uint collectionId, string name)
    {
        string path = Path.Combine(directory, FileNames.Attachment(fileNumber));
        if (!fileSystem.FileExists(path))
        {
            throw new CorruptionException(path, -1, $"missing: the manifest names it as attachment '{name}'");
        }
        using IStorageFile file = fileSystem.Open(path, writable: false);
        long length = file.Length;
        if (length < HeaderBytes + 1 + 4 || length > HeaderBytes + MaxNameLength + MaxContentBytes + 4)
        {
            throw new CorruptionException(path, 0, $"{length} bytes cannot be an attachment file");
        }
        var bytes = new byte[length];
        file.Read(0, bytes);
        (uint foundCollection, string foundName, ReadOnlyMemory<byte> content) = Decode(bytes, path);
        if (foundCollection != collectionId || foundName != name)
        {
            throw new CorruptionException(path, 12, $"holds attachment '{foundName}' of collection {foundCollection}; the manifest names it as '{name}' of collection {collectionId}");
        }
        return content.ToArray();
    }

    /// <summary>The collection id, name and content of an attachment file's bytes, checked.</summary>
    /// <exception cref="CorruptionException">What is wrong, and where.</exception>
    public static (uint CollectionId, string Name, ReadOnlyMemory<byte> Content) Decode(byte[] bytes, string path)
    {
        FileHeader.Check(bytes, HeaderBytes, Magic, Version, "attachment", path);
        ReadOnlySpan<byte> header = bytes.AsSpan(0, HeaderBytes);
        uint collectionId = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        ulong contentBytes = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
        int nameBytes = BinaryPrimitives.ReadUInt16LittleEndian(header[24..]);
        if (BinaryPrimitives.ReadUInt16LittleEndian(header[26..]) != 0)
        {
            throw new CorruptionException(path, 26, "the reserved bytes are not zero");
        }
        if (nameBytes is < 1 or > MaxNameLength)
        {
            throw new CorruptionException(path, 24, $"a name of {nameBytes} bytes is impossible (1..{MaxNameLength})");
        }
        if (contentBytes > MaxContentBytes || (ulong)bytes.Length != HeaderBytes + (ulong)nameBytes + contentBytes + 4)
        {
            throw new CorruptionException(path, 16, $"the header says {nameBytes} name and {contentBytes} content bytes; the file holds {bytes.Length} bytes in all");
        }
        int bodyBytes = nameBytes + (int)contentBytes;
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(HeaderBytes + bodyBytes)) != Crc32C.Compute(bytes.AsSpan(HeaderBytes, bodyBytes)))
        {
            throw new CorruptionException(path, HeaderBytes + bodyBytes, "the checksum of the name and content does not match");
        }
        string name = Encoding.ASCII.GetString(bytes, HeaderBytes, nameBytes);
        if (NameProblem(name) is { } problem)
        {
            throw new CorruptionException(path, HeaderBytes, problem);
        }
        return (collectionId, name, bytes.AsMemory(HeaderBytes + nameBytes, (int)contentBytes));
    }
}
