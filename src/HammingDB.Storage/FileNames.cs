using System.Globalization;

namespace HammingDB.Storage;

/// <summary>
/// The one owner of file names in a database directory. Every file HammingDB writes is named
/// here; anything else in the directory is not ours.
/// </summary>
internal static class FileNames
{
    /// <summary>The writer's lock file (flock; its content is unused).</summary>
    public const string Lock = "LOCK";

    /// <summary>The manifest: the only record of which files are live (replaced atomically).</summary>
    public const string Manifest = "MANIFEST";

    private const string LogPrefix = "wal-";
    private const string LogSuffix = ".log";
    private const string SegmentPrefix = "seg-";
    private const string SegmentSuffix = ".hdbs";
    private const string DeletionsPrefix = "del-";
    private const string DeletionsSuffix = ".hdbd";
    private const string AttachmentPrefix = "att-";
    private const string AttachmentSuffix = ".hdba";
    private const string TempSuffix = ".tmp";

    /// <summary>Segment file number <paramref name="number"/>: <c>seg-0000000001.hdbs</c>.</summary>
    public static string Segment(long number)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(number);
        return $"{SegmentPrefix}{number.ToString("D10", CultureInfo.InvariantCulture)}{SegmentSuffix}";
    }

    /// <summary>Version <paramref name="version"/> of segment <paramref name="segment"/>'s deletion bitmap: <c>del-0000000001-000001.hdbd</c>.</summary>
    public static string Deletions(long segment, long version)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(segment);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        return $"{DeletionsPrefix}{segment.ToString("D10", CultureInfo.InvariantCulture)}-{version.ToString("D6", CultureInfo.InvariantCulture)}{DeletionsSuffix}";
    }

    /// <summary>Attachment file number <paramref name="number"/> (one version of one attachment): <c>att-0000000001.hdba</c>.</summary>
    public static string Attachment(long number)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(number);
        return $"{AttachmentPrefix}{number.ToString("D10", CultureInfo.InvariantCulture)}{AttachmentSuffix}";
    }

    /// <summary>The number of an attachment file's name, or false when it is not one.</summary>
    public static bool TryParseAttachment(string name, out long number) => TryParseNumbered(name, AttachmentPrefix, AttachmentSuffix, out number);

    /// <summary>
    /// Whether <paramref name="name"/> is a name HammingDB gives its data files (log, segment, deletion
    /// bitmap, attachment, or a temporary one), so that a file of it the manifest does not name is ours to remove.
    /// The lock file and the manifest are not counted.
    /// </summary>
    public static bool IsDataFile(string name) =>
        IsTemp(name) || TryParseLog(name, out _) || TryParseSegment(name, out _) || TryParseDeletions(name, out _, out _) || TryParseAttachment(name, out _);

    /// <summary>The number of a segment file's name, or false when it is not one.</summary>
    public static bool TryParseSegment(string name, out long number) => TryParseNumbered(name, SegmentPrefix, SegmentSuffix, out number);

    /// <summary>The segment and version of a deletion bitmap's name, or false when it is not one.</summary>
    public static bool TryParseDeletions(string name, out long segment, out long version)
    {
        segment = version = 0;
        return name.StartsWith(DeletionsPrefix, StringComparison.Ordinal)
            && name.EndsWith(DeletionsSuffix, StringComparison.Ordinal)
            && name.Length == DeletionsPrefix.Length + 10 + 1 + 6 + DeletionsSuffix.Length
            && name[DeletionsPrefix.Length + 10] == '-'
            && long.TryParse(name.AsSpan(DeletionsPrefix.Length, 10), NumberStyles.None, CultureInfo.InvariantCulture, out segment)
            && long.TryParse(name.AsSpan(DeletionsPrefix.Length + 11, 6), NumberStyles.None, CultureInfo.InvariantCulture, out version)
            && segment > 0 && version > 0;
    }

    /// <summary>Write-ahead log number <paramref name="number"/>: <c>wal-0000000001.log</c>.</summary>
    public static string Log(long number)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(number);
        return $"{LogPrefix}{number.ToString("D10", CultureInfo.InvariantCulture)}{LogSuffix}";
    }

    /// <summary>The temporary name a file is written under before its rename.</summary>
    public static string Temp(string name) => name + TempSuffix;

    public static bool IsTemp(string name) => name.EndsWith(TempSuffix, StringComparison.Ordinal);

    /// <summary>The number of a log file's name, or false when it is not one.</summary>
    public static bool TryParseLog(string name, out long number) => TryParseNumbered(name, LogPrefix, LogSuffix, out number);

    private static bool TryParseNumbered(string name, string prefix, string suffix, out long number)
    {
        number = 0;
        return name.StartsWith(prefix, StringComparison.Ordinal)
            && name.EndsWith(suffix, StringComparison.Ordinal)
            && name.Length == prefix.Length + 10 + suffix.Length
            && long.TryParse(name.AsSpan(prefix.Length, 10), NumberStyles.None, CultureInfo.InvariantCulture, out number)
            && number > 0;
    }
}
