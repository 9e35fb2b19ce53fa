using System.Runtime.InteropServices;

namespace HammingDB.Storage;

/// <summary>
/// Named points in the write path where a crash test kills the process. Armed by environment
/// variables read once at startup: <c>HAMMINGDB_KILL_POINT=NAME</c> and <c>HAMMINGDB_KILL_AT=N</c>
/// (default 1) make the process SIGKILL itself at the N-th hit of that point (nothing is flushed,
/// no finalizer or handler runs); <c>HAMMINGDB_KILL_TRACE=FILE</c> appends every hit's name to FILE,
/// one a line (and <c>KILL NAME</c> before the kill), so a test can count hits across processes.
/// Disarmed, a hit costs one check of a static readonly field.
/// </summary>
internal static partial class KillPoints
{
    /// <summary>The four points of a file put in place by <see cref="DurableFile.Replace"/>.</summary>
    /// <param name="Written">The temporary file written, not synced: a reopen finds the previous version (or none) and removes the temporary.</param>
    /// <param name="Synced">The temporary file synced, not renamed: as above.</param>
    /// <param name="Renamed">Renamed into place, the directory not synced: a SIGKILL keeps the new name (a power loss might not).</param>
    /// <param name="DirectorySynced">The directory synced: the file is durable under its name.</param>
    internal sealed record Durable(string Written, string Synced, string Renamed, string DirectorySynced)
    {
        public static Durable Of(string kind) => new($"{kind}.temp-written", $"{kind}.temp-synced", $"{kind}.renamed", $"{kind}.directory-synced");
    }

    /// <summary>A write-ahead log group: records written to the log file, not synced; not durable, none acknowledged.</summary>
    public const string LogBeforeSync = "log.before-sync";

    /// <summary>A write-ahead log group synced (durable), its writers not yet told: none of it acknowledged yet.</summary>
    public const string LogAfterSync = "log.after-sync";

    /// <summary>A new log (at create and at each seal), before the manifest names it.</summary>
    public static readonly Durable NewLog = Durable.Of("new-log");

    /// <summary>A segment file (seal or compaction), before the manifest names it.</summary>
    public static readonly Durable Segment = Durable.Of("segment");

    /// <summary>A deletion bitmap version (seal or compaction), before the manifest names it.</summary>
    public static readonly Durable Deletions = Durable.Of("deletions");

    /// <summary>An attachment version, before the manifest names it.</summary>
    public static readonly Durable Attachment = Durable.Of("attachment");

    /// <summary>The manifest: its directory sync is the switch that commits a seal, a compaction or an attachment change.</summary>
    public static readonly Durable Manifest = Durable.Of("manifest");

    /// <summary>A seal's manifest switch naming new deletion bitmaps is durable; the old versions are still on disk (a reopen removes them).</summary>
    public const string DeletionsSwitched = "deletions.switched";

    /// <summary>A seal deleted the replaced deletion bitmap versions (directory not synced).</summary>
    public const string DeletionsOldDeleted = "deletions.old-deleted";

    /// <summary>A seal's switch is durable and the key index checkpointed; the old log is still on disk (a reopen removes it).</summary>
    public const string LogTrimBefore = "log-trim.before";

    /// <summary>A seal deleted the old log (directory not synced); replaced deletion bitmaps not yet deleted.</summary>
    public const string LogTrimAfter = "log-trim.after";

    /// <summary>A compaction's merged segment is durable under its name; no manifest names it (a reopen removes it).</summary>
    public const string CompactionSegmentDurable = "compaction.segment-durable";

    /// <summary>The manifest naming the merged segment is durable; the key index still points at the inputs (behind: rebuilt at open); input files on disk.</summary>
    public const string CompactionSwitched = "compaction.switched";

    /// <summary>The key index entries moved to the merged segment and checkpointed; input files still on disk.</summary>
    public const string CompactionIndexMoved = "compaction.index-moved";

    /// <summary>The inputs' files deleted (segments no search reads, and deletion bitmaps; directory not synced).</summary>
    public const string CompactionInputsDeleted = "compaction.inputs-deleted";

    /// <summary>The key index's version entry updated in memory, its checkpoint not taken: on disk the index is at its previous version.</summary>
    public const string KeyIndexBeforeCheckpoint = "key-index.before-checkpoint";

    /// <summary>The key index checkpoint taken; the manifest version it matches is on disk with it.</summary>
    public const string KeyIndexAfterCheckpoint = "key-index.after-checkpoint";

    /// <summary>The manifest naming a new attachment version (or none) is durable; the key index not checkpointed at it; the old version's file still on disk.</summary>
    public const string AttachmentSwitched = "attachment.switched";

    /// <summary>The replaced attachment version's file deleted (directory not synced).</summary>
    public const string AttachmentOldDeleted = "attachment.old-deleted";

    private static readonly string? Point = Environment.GetEnvironmentVariable("HAMMINGDB_KILL_POINT") is { Length: > 0 } point ? point : null;
    private static readonly long At = long.TryParse(Environment.GetEnvironmentVariable("HAMMINGDB_KILL_AT"), out long at) && at >= 1 ? at : 1;
    private static readonly string? Trace = Environment.GetEnvironmentVariable("HAMMINGDB_KILL_TRACE") is { Length: > 0 } trace ? trace : null;
    private static readonly bool Armed = Point is not null || Trace is not null;
    private static readonly object Gate = new();
    private static long _hits;

    /// <summary>Every point's name, each with where it is and what has (and has not) reached the disk there.</summary>
    public static IReadOnlyDictionary<string, string> All { get; } = Describe();

    /// <summary>Marks point <paramref name="name"/>: the process dies here if it is armed for this hit.</summary>
    public static void Hit(string name)
    {
        if (Armed)
        {
            HitArmed(name);
        }
    }

    private static void HitArmed(string name)
    {
        lock (Gate)
        {
            bool kill = name == Point && ++_hits == At;
            if (Trace is not null)
            {
                File.AppendAllText(Trace, kill ? $"{name}\nKILL {name}\n" : $"{name}\n");
            }
            if (kill)
            {
                _ = Native.Kill(Environment.ProcessId, 9);
                Environment.FailFast($"kill point {name}: kill(2) returned"); // not reached
            }
        }
    }

    private static Dictionary<string, string> Describe()
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [LogBeforeSync] = "LogWriter: a group of records written to the log file, not synced; none acknowledged.",
            [LogAfterSync] = "LogWriter: the group synced (durable), its writers not yet told.",
            [DeletionsSwitched] = "Seal: the manifest naming new deletion bitmaps is durable; old versions still on disk.",
            [DeletionsOldDeleted] = "Seal: replaced deletion bitmap versions deleted (directory not synced).",
            [LogTrimBefore] = "Seal: switch durable, key index checkpointed; the old log still on disk.",
            [LogTrimAfter] = "Seal: the old log deleted (directory not synced).",
            [CompactionSegmentDurable] = "Compaction: the merged segment durable, not named by the manifest.",
            [CompactionSwitched] = "Compaction: the manifest naming the merged segment durable; key index behind; inputs on disk.",
            [CompactionIndexMoved] = "Compaction: key index entries moved and checkpointed; inputs on disk.",
            [CompactionInputsDeleted] = "Compaction: input segments (unread) and bitmaps deleted (directory not synced).",
            [KeyIndexBeforeCheckpoint] = "Key index: version entry updated in memory, checkpoint not taken.",
            [KeyIndexAfterCheckpoint] = "Key index: checkpoint taken (durable).",
            [AttachmentSwitched] = "Attachment: the manifest naming the new version durable; old file on disk.",
            [AttachmentOldDeleted] = "Attachment: the replaced version's file deleted (directory not synced).",
        };
        foreach ((Durable points, string what) in new[] { (NewLog, "A new log"), (Segment, "A segment"), (Deletions, "A deletion bitmap"), (Attachment, "An attachment"), (Manifest, "The manifest") })
        {
            all[points.Written] = $"{what}: temporary file written, not synced; the previous state stands.";
            all[points.Synced] = $"{what}: temporary file synced, not renamed; the previous state stands.";
            all[points.Renamed] = $"{what}: renamed into place, directory not synced.";
            all[points.DirectorySynced] = $"{what}: durable under its name{(points == Manifest ? " (the switch is committed)" : "; no manifest names it yet")}.";
        }
        return all;
    }

    private static partial class Native
    {
        [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static partial int Kill(int pid, int signal);
    }
}
