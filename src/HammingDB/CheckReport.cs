namespace HammingDB;

/// <summary>How bad a problem <see cref="HammingDatabase.Check(string)"/> found is.</summary>
public enum CheckSeverity
{
    /// <summary>Data is damaged or inconsistent: a file, a record or an index entry is not what was written.</summary>
    Damage,

    /// <summary>Not damage: something a crash or an interrupted step leaves and the next open deals with (a torn log tail, a file no longer used, a stale key index).</summary>
    Notice,
}

/// <summary>One problem found by <see cref="HammingDatabase.Check(string)"/>.</summary>
/// <param name="Severity">Damage or notice.</param>
/// <param name="File">The file (or the key-index directory) concerned, as a full path.</param>
/// <param name="Offset">The byte offset in <paramref name="File"/> where it was found, or -1 when it has none (a missing file, a key-index entry).</param>
/// <param name="Problem">What is wrong.</param>
public sealed record CheckProblem(CheckSeverity Severity, string File, long Offset, string Problem)
{
    /// <summary>One line: severity, file, offset and problem.</summary>
    public override string ToString() =>
        $"{(Severity == CheckSeverity.Damage ? "damage" : "notice")}: {File}{(Offset >= 0 ? $" at offset {Offset}" : "")}: {Problem}";
}

/// <summary>What <see cref="HammingDatabase.Check(string)"/> found.</summary>
/// <param name="Problems">Every problem, in the order found.</param>
/// <param name="FilesChecked">Files read and verified (manifest, segments, deletion bitmaps, log, key index).</param>
/// <param name="RowsChecked">Segment rows and logged operations verified.</param>
public sealed record CheckReport(IReadOnlyList<CheckProblem> Problems, int FilesChecked, long RowsChecked)
{
    /// <summary>No damage was found (notices may remain).</summary>
    public bool Ok => !Problems.Any(p => p.Severity == CheckSeverity.Damage);
}
