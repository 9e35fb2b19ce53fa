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

    private const string LogPrefix = "wal-";
    private const string LogSuffix = ".log";
    private const string TempSuffix = ".tmp";

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
    public static bool TryParseLog(string name, out long number)
    {
        number = 0;
        return name.StartsWith(LogPrefix, StringComparison.Ordinal)
            && name.EndsWith(LogSuffix, StringComparison.Ordinal)
            && name.Length == LogPrefix.Length + 10 + LogSuffix.Length
            && long.TryParse(name.AsSpan(LogPrefix.Length, 10), NumberStyles.None, CultureInfo.InvariantCulture, out number)
            && number > 0;
    }
}
