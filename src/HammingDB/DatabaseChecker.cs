using System.Text;
using HammingDB.Kernels;
using HammingDB.Keys;
using HammingDB.Storage;
using HammingDB.Storage.Attachments;
using HammingDB.Storage.Keys;
using HammingDB.Storage.Log;
using HammingDB.Storage.Manifest;
using HammingDB.Storage.Segments;
using HammingDB.Writing;

namespace HammingDB;

/// <summary>
/// What <see cref="HammingDatabase.Check(string)"/> runs: reads every file of a database directory
/// under a shared hold of the lock file (no writer meanwhile), collects every problem (a damaged file is reported and the rest is checked
/// all the same), and changes nothing. Each part reports what it can check without the parts that
/// failed: without a manifest, files are checked on their own; without a segment, its bitmap is
/// checked against the manifest's row count and its index entries are not compared.
/// </summary>
internal sealed class DatabaseChecker(IFileSystem fs, string directory, IKeyIndexStore keyIndexStore)
{
    /// <summary>Key-index problems listed before the rest are only counted (a lost index would list every key).</summary>
    private const int MaxKeyIndexProblems = 1000;

    private readonly List<CheckProblem> _problems = [];
    private readonly List<SegmentReader> _opened = [];
    private int _files;
    private long _rows;
    private int _keyIndexProblems;
    private bool _keyIndexDamageUnlisted;

    public CheckReport Run()
    {
        string lockPath = PathOf(FileNames.Lock);
        // A shared hold, as a read-only open takes: it throws while another process writes, and needs no write
        // access (a database on a read-only mount can be checked).
        IDisposable? writerLock = fs.LockShared(lockPath);
        if (writerLock is null)
        {
            Notice(lockPath, -1, "no lock file (the first open creates it): checked without holding the writer lock, so as not to create it");
        }
        try
        {
            IReadOnlyList<string> names = fs.ListFiles(directory);
            var present = new HashSet<string>(names, StringComparer.Ordinal);
            ManifestState? manifest = CheckManifest(present);
            if (manifest is null)
            {
                CheckWithoutManifest(names);
            }
            else
            {
                CheckWithManifest(manifest, names, present);
            }
        }
        finally
        {
            foreach (SegmentReader reader in _opened)
            {
                reader.Dispose();
            }
            writerLock?.Dispose();
        }
        return new CheckReport(_problems.ToList(), _files, _rows);
    }

    private string PathOf(string name) => Path.Combine(directory, name);

    private void Damage(string file, long offset, string problem) => _problems.Add(new CheckProblem(CheckSeverity.Damage, file, offset, problem));

    private void Damage(CorruptionException e) => Damage(e.FilePath, e.Offset, e.Reason);

    private void Notice(string file, long offset, string problem) => _problems.Add(new CheckProblem(CheckSeverity.Notice, file, offset, problem));

    // Runs one part of the check on one file: whatever it throws is reported as damage of that file, and the check goes on.
    private T? Guard<T>(string path, Func<T> part)
        where T : class
    {
        try
        {
            return part();
        }
        catch (CorruptionException e)
        {
            Damage(e);
        }
        catch (StorageException e)
        {
            Damage(path, -1, $"cannot be read: {e.Message}");
        }
#pragma warning disable CA1031 // a check reports and goes on: an unforeseen error on damaged bytes is damage of that file, not the end of the check
        catch (Exception e)
#pragma warning restore CA1031
        {
            Damage(path, -1, $"unexpected {e.GetType().Name} while checking it: {e.Message}");
        }
        return null;
    }

    // ---- manifest ----

    private ManifestState? CheckManifest(HashSet<string> present)
    {
        string path = PathOf(FileNames.Manifest);
        if (!present.Contains(FileNames.Manifest))
        {
            Damage(path, -1, "missing: no file is known to be part of the database (Open would start a new, empty database and remove the others)");
            return null;
        }
        _files++;
        ManifestState? manifest = Guard(path, () => ManifestStore.Read(fs, directory)!); // present, so never null
        if (manifest is not null && !CheckManifestStructure(manifest, path))
        {
            return null;
        }
        return manifest;
    }

    // What the manifest's checksums cannot vouch for: that what it says is possible. False when the rest cannot be checked against it.
    private bool CheckManifestStructure(ManifestState manifest, string path)
    {
        int before = _problems.Count;
        void Bad(string what) => Damage(path, ManifestStore.HeaderBytes, what);
        if (manifest.LogNumber <= 0 || manifest.LogNumber >= manifest.NextFileNumber)
        {
            Bad($"the log number {manifest.LogNumber} is not a file number below the next one, {manifest.NextFileNumber}");
        }
        var ids = new HashSet<uint>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var files = new HashSet<long> { manifest.LogNumber };
        foreach (CollectionState c in manifest.Collections)
        {
            if (c.Id == 0 || !ids.Add(c.Id))
            {
                Bad($"collection id {c.Id} is reserved or repeated");
            }
            if (c.Name.Length == 0 || !names.Add(c.Name))
            {
                Bad($"collection name '{c.Name}' is empty or repeated");
            }
            if (c.CodeBits < CodeLayout.MinCodeBits || c.CodeBits > CodeLayout.MaxCodeBits || c.CodeBits % 8 != 0)
            {
                Bad($"collection '{c.Name}' has codes of {c.CodeBits} bits");
            }
            if (!Enum.IsDefined(c.KeyKind))
            {
                Bad($"collection '{c.Name}' has key kind {(uint)c.KeyKind}, which is unknown");
            }
            if (c.VectorDimension is < 0 or > 1 << 16)
            {
                Bad($"collection '{c.Name}' has vectors of dimension {c.VectorDimension}");
            }
            var attachmentNames = new HashSet<string>(StringComparer.Ordinal);
            foreach (AttachmentState a in c.Attachments)
            {
                if (AttachmentFile.NameProblem(a.Name) is { } problem || !attachmentNames.Add(a.Name))
                {
                    Bad($"attachment name '{a.Name}' of collection '{c.Name}' is not allowed or repeated");
                }
                if (a.FileNumber <= 0 || a.FileNumber >= manifest.NextFileNumber || a.FileNumber > uint.MaxValue || !files.Add(a.FileNumber))
                {
                    Bad($"attachment file number {a.FileNumber} of collection '{c.Name}' is impossible or used twice");
                }
            }
            foreach (SegmentState s in c.Segments)
            {
                if (s.FileNumber <= 0 || s.FileNumber >= manifest.NextFileNumber || s.FileNumber > uint.MaxValue || !files.Add(s.FileNumber))
                {
                    Bad($"segment file number {s.FileNumber} of collection '{c.Name}' is impossible or used twice");
                }
                if (s.Rows < 0 || s.DeletedRows < 0 || s.DeletedRows > s.Rows || s.DeletionVersion < 0 || (s.DeletionVersion == 0 && s.DeletedRows != 0))
                {
                    Bad($"segment {s.FileNumber} of collection '{c.Name}' has {s.Rows} rows, {s.DeletedRows} deleted, deletion version {s.DeletionVersion}");
                }
            }
        }
        return _problems.Count == before;
    }

    // ---- with a manifest ----

    /// <summary>A segment the manifest names, as far as it could be read (null: damaged or missing, reported).</summary>
    private sealed record CheckedSegment(CollectionState Collection, SegmentState State, string Path, SegmentReader? Reader, DeletionBitmap? Deleted);

    private void CheckWithManifest(ManifestState manifest, IReadOnlyList<string> names, HashSet<string> present)
    {
        var live = new HashSet<string>(StringComparer.Ordinal) { FileNames.Lock, FileNames.Manifest };
        var segments = new List<CheckedSegment>();
        foreach (CollectionState collection in manifest.Collections)
        {
            foreach (SegmentState state in collection.Segments)
            {
                segments.Add(CheckSegment(collection, state, present));
                live.Add(FileNames.Segment(state.FileNumber));
                if (state.DeletionVersion > 0)
                {
                    live.Add(FileNames.Deletions(state.FileNumber, state.DeletionVersion));
                }
            }
        }
        foreach (CollectionState collection in manifest.Collections)
        {
            foreach (AttachmentState attachment in collection.Attachments)
            {
                CheckAttachment(collection, attachment, present);
                live.Add(FileNames.Attachment(attachment.FileNumber));
            }
        }
        live.Add(FileNames.Log(manifest.LogNumber));
        CheckLog(PathOf(FileNames.Log(manifest.LogNumber)), present, manifest.LogNumber, newest: true, manifest.Collections.ToDictionary(c => c.Id));
        foreach (string name in names.Where(n => !live.Contains(n)))
        {
            bool ours = FileNames.IsDataFile(name);
            Notice(PathOf(name), -1, ours
                ? "not named by the manifest: left by an interrupted step or a crash (the next open removes it)"
                : "not a HammingDB file (the database leaves it alone)");
        }
        CheckKeyIndex(manifest, segments);
    }

    private CheckedSegment CheckSegment(CollectionState collection, SegmentState state, HashSet<string> present)
    {
        string path = PathOf(FileNames.Segment(state.FileNumber));
        SegmentReader? reader = OpenSegment(path, present, $"collection '{collection.Name}'");
        if (reader is not null)
        {
            if (reader.Rows != state.Rows)
            {
                Damage(path, 16, $"holds {reader.Rows} rows; the manifest says {state.Rows}");
            }
            if (reader.Layout.CodeBits != collection.CodeBits)
            {
                Damage(path, 12, $"holds codes of {reader.Layout.CodeBits} bits; collection '{collection.Name}' has {collection.CodeBits}");
            }
            if (reader.KeyKind != collection.KeyKind)
            {
                Damage(path, 24, $"holds {reader.KeyKind} keys; collection '{collection.Name}' is keyed by {collection.KeyKind}");
            }
            if (reader.HasPayloads != collection.HasPayloads || reader.VectorDimension != collection.VectorDimension)
            {
                Damage(path, 28, $"payloads {reader.HasPayloads} and vectors of dimension {reader.VectorDimension}; collection '{collection.Name}' has payloads {collection.HasPayloads} and dimension {collection.VectorDimension}");
            }
        }
        if (reader is not null && collection.VectorDimension > 0 && reader.VectorKind != collection.VectorKind)
        {
            Damage(path, 28, $"stores {reader.VectorKind} vectors; collection '{collection.Name}' stores {collection.VectorKind}");
        }
        DeletionBitmap? deleted = CheckBitmap(collection, state, reader, present);
        return new CheckedSegment(collection, state, path, reader, deleted);
    }

    // An attachment the manifest names: present, whole (header, checksums, length), and the attachment the manifest says it is.
    private void CheckAttachment(CollectionState collection, AttachmentState attachment, HashSet<string> present)
    {
        string name = FileNames.Attachment(attachment.FileNumber);
        string path = PathOf(name);
        if (!present.Contains(name))
        {
            Damage(path, -1, $"missing: the manifest names it as attachment '{attachment.Name}' of collection '{collection.Name}'");
            return;
        }
        _files++;
        Guard(path, () => AttachmentFile.Read(fs, directory, attachment.FileNumber, collection.Id, attachment.Name));
    }

    // Opens and verifies a segment on its own (every checksum of codes, vectors and MIH tables, each MiB reported on its own;
    // every block; the key order); null when it cannot be read.
    private SegmentReader? OpenSegment(string path, HashSet<string> present, string owner)
    {
        if (!present.Contains(Path.GetFileName(path)))
        {
            Damage(path, -1, $"missing: the manifest names it as a segment of {owner}");
            return null;
        }
        _files++;
        SegmentReader? reader = Guard(path, () => SegmentReader.Open(fs, path, verifyCodes: false, verifyMihTables: false));
        if (reader is null)
        {
            return null;
        }
        _opened.Add(reader);
        _rows += reader.Rows;
        Guard<object>(path, () =>
        {
            reader.Verify(Damage, keyProblem: key => KeyBytes.Problem(reader.KeyKind, key));
            return this;
        });
        return reader;
    }

    private DeletionBitmap? CheckBitmap(CollectionState collection, SegmentState state, SegmentReader? reader, HashSet<string> present)
    {
        int rows = reader?.Rows ?? state.Rows;
        if (state.DeletionVersion == 0)
        {
            return new DeletionBitmap(rows); // nothing deleted: no file
        }
        string name = FileNames.Deletions(state.FileNumber, state.DeletionVersion);
        string path = PathOf(name);
        if (!present.Contains(name))
        {
            Damage(path, -1, $"missing: the manifest names it as the deletion bitmap of segment {state.FileNumber} of collection '{collection.Name}'");
            return null;
        }
        _files++;
        DeletionBitmap? deleted = Guard(path, () => DeletionBitmap.Read(fs, directory, state.FileNumber, state.DeletionVersion, rows));
        if (deleted is not null && deleted.DeletedRows != state.DeletedRows)
        {
            Damage(path, 24, $"holds {deleted.DeletedRows} deleted rows; the manifest says {state.DeletedRows}");
        }
        return deleted;
    }

    // ---- the write-ahead log ----

    // Checks a log's header and every record; what follows the valid prefix is a torn tail (a notice) only in the newest log and
    // only when no whole record follows it. With collections (from the manifest) every batch is decoded against its collection.
    private void CheckLog(string path, HashSet<string> present, long number, bool newest, Dictionary<uint, CollectionState>? collections)
    {
        if (!present.Contains(Path.GetFileName(path)))
        {
            Damage(path, -1, "missing: the manifest names it as the write-ahead log");
            return;
        }
        _files++;
        Guard<object>(path, () =>
        {
            using IStorageFile file = fs.Open(path, writable: false);
            LogContents contents = LogReader.Read(file);
            if (contents.Number != number)
            {
                Damage(path, 16, $"the header says log {contents.Number}; the file name says {number}");
            }
            foreach (LogRecord record in contents.Records)
            {
                CheckRecord(path, record, collections);
            }
            if (contents.TailProblem is not null)
            {
                Func<byte, ReadOnlySpan<byte>, bool> plausible = collections is null
                    ? WriteBatch.LooksLikeStart
                    : (type, start) => WriteBatch.LooksLikeStart(type, start) && collections.ContainsKey(WriteBatch.PeekCollection(start, path, 0));
                long? next = LogReader.FindRecordAfter(file, contents.ValidLength, plausible);
                if (next is not null)
                {
                    Damage(path, contents.ValidLength, $"{contents.TailProblem}, and a whole record follows at offset {next}: damage, not a torn tail (the records after it were acknowledged; Open refuses to cut them off)");
                }
                else if (!newest)
                {
                    Damage(path, contents.ValidLength, $"{contents.TailProblem}: damage in a log older than the newest");
                }
                else
                {
                    Notice(path, contents.ValidLength, $"torn tail at offset {contents.ValidLength}: a write that was never acknowledged, or damage ({contents.TailProblem}); the next open cuts it off");
                }
            }
            return this;
        });
    }

    private void CheckRecord(string path, LogRecord record, Dictionary<uint, CollectionState>? collections)
    {
        if (record.Type != WriteBatch.RecordType)
        {
            Damage(path, record.Offset, $"record type {record.Type} is unknown");
            return;
        }
        try
        {
            uint id = WriteBatch.PeekCollection(record.Payload.Span, path, record.Offset);
            if (collections is null)
            {
                return;
            }
            if (!collections.TryGetValue(id, out CollectionState? collection))
            {
                Damage(path, record.Offset, $"a batch names collection {id}, which the manifest does not have");
                return;
            }
            var shape = new CollectionShape(new CodeLayout(collection.CodeBits), collection.HasPayloads, collection.VectorDimension);
            List<BatchEntry> entries = WriteBatch.Decode(record.Payload.Span, shape, path, record.Offset);
            _rows += entries.Count;
            foreach (BatchEntry entry in entries)
            {
                if (KeyBytes.Problem(collection.KeyKind, entry.Key) is { } problem)
                {
                    Damage(path, record.Offset, $"a key of collection '{collection.Name}' {problem}");
                }
            }
        }
        catch (CorruptionException e)
        {
            Damage(e);
        }
    }

    // ---- without a manifest ----

    // Every file whose name is ours, on its own: segments, the bitmaps of segments that could be read, logs (the highest number is the newest).
    private void CheckWithoutManifest(IReadOnlyList<string> names)
    {
        Notice(PathOf(FileNames.Manifest), -1, "without a manifest, files were checked on their own: not which are live, not against the collections, not the key index");
        var present = new HashSet<string>(names, StringComparer.Ordinal);
        var readers = new Dictionary<long, SegmentReader>();
        foreach (string name in names)
        {
            if (FileNames.TryParseSegment(name, out long number) && OpenSegment(PathOf(name), present, "no collection known") is { } reader)
            {
                readers[number] = reader;
            }
        }
        foreach (string name in names)
        {
            if (FileNames.TryParseDeletions(name, out long segment, out long version) && readers.TryGetValue(segment, out SegmentReader? reader))
            {
                _files++;
                Guard(PathOf(name), () => DeletionBitmap.Read(fs, directory, segment, version, reader.Rows));
            }
        }
        foreach (string name in names)
        {
            if (FileNames.TryParseAttachment(name, out _))
            {
                _files++;
                string path = PathOf(name);
                Guard<object>(path, () =>
                {
                    using IStorageFile file = fs.Open(path, writable: false);
                    var bytes = new byte[Math.Min(file.Length, AttachmentFile.HeaderBytes + AttachmentFile.MaxNameLength + AttachmentFile.MaxContentBytes + 4L)];
                    file.Read(0, bytes);
                    return AttachmentFile.Decode(bytes, path).Name;
                });
            }
        }
        var logs = names.Select(n => FileNames.TryParseLog(n, out long number) ? number : 0).Where(n => n > 0).Order().ToList();
        foreach (long number in logs)
        {
            CheckLog(PathOf(FileNames.Log(number)), present, number, newest: number == logs[^1], collections: null);
        }
    }

    // ---- the key index ----

    private void CheckKeyIndex(ManifestState manifest, List<CheckedSegment> segments)
    {
        string location = keyIndexStore.Location;
        IKeyIndex? index;
        try
        {
            index = keyIndexStore.OpenCopy();
        }
#pragma warning disable CA1031 // derived data: an index that cannot be opened is rebuilt by the next open (as Open does)
        catch (Exception e)
#pragma warning restore CA1031
        {
            Notice(location, -1, $"cannot be opened ({e.GetType().Name}: {e.Message}): the next open rebuilds it from the segments");
            return;
        }
        if (index is null)
        {
            Notice(location, -1, "absent: the next open builds it from the segments");
            return;
        }
        using (index)
        {
            _files++;
            if (index.Version != manifest.Version)
            {
                Notice(location, -1, $"stale: its checkpoint is of manifest version {index.Version}, the manifest is at {manifest.Version}; rebuilt at next open, so not compared");
                return;
            }
            try
            {
                foreach (CollectionState collection in manifest.Collections)
                {
                    CompareLiveKeys(index, collection, segments.Where(s => s.Collection.Id == collection.Id).ToList(), location);
                }
                CompareEntries(index, manifest, segments, location);
            }
#pragma warning disable CA1031 // the index's own files are FASTER's: any failure reading them is damage of the index, reported
            catch (Exception e)
#pragma warning restore CA1031
            {
                Damage(location, -1, $"cannot be read to the end ({e.GetType().Name}: {e.Message})");
            }
            if (_keyIndexProblems > MaxKeyIndexProblems)
            {
                var more = new CheckProblem(_keyIndexDamageUnlisted ? CheckSeverity.Damage : CheckSeverity.Notice, location, -1,
                    $"{_keyIndexProblems - MaxKeyIndexProblems} more key-index problems are not listed");
                _problems.Add(more);
            }
        }
    }

    private void KeyIndexProblem(CheckSeverity severity, string location, string problem)
    {
        if (++_keyIndexProblems <= MaxKeyIndexProblems)
        {
            _problems.Add(new CheckProblem(severity, location, -1, problem));
        }
        else
        {
            _keyIndexDamageUnlisted |= severity == CheckSeverity.Damage;
        }
    }

    // Every live key of the collection's segments, in key order across them (a k-way merge): live in one segment only, and
    // the index maps it to exactly its (segment, row). Segments that could not be read, or whose bitmap could not, are left out.
    private void CompareLiveKeys(IKeyIndex index, CollectionState collection, List<CheckedSegment> segments, string location)
    {
        List<CheckedSegment> readable = segments.Where(s => s.Reader is not null && s.Deleted is not null).ToList();
        var cursors = readable.Select(s => LiveKeys(s.Reader!, s.Deleted!).GetEnumerator()).ToList();
        try
        {
            var heads = new PriorityQueue<int, byte[]>(Index.KeyOrder.Instance);
            for (int i = 0; i < cursors.Count; i++)
            {
                if (cursors[i].MoveNext())
                {
                    heads.Enqueue(i, cursors[i].Current.Key);
                }
            }
            (byte[] Key, int Segment, int Row)? previous = null;
            while (heads.TryDequeue(out int i, out byte[]? key))
            {
                int row = cursors[i].Current.Row;
                var here = new RowLocation(readable[i].State.FileNumber, row);
                string shown = ShowKey(collection, key);
                if (previous is { } p && p.Segment != i && p.Key.AsSpan().SequenceEqual(key))
                {
                    Damage(readable[i].Path, -1, $"key {shown} of collection '{collection.Name}' is live here (row {row}) and in segment {readable[p.Segment].State.FileNumber} (row {p.Row})");
                }
                if (!index.TryGet(collection.Id, key, out RowLocation found))
                {
                    KeyIndexProblem(CheckSeverity.Damage, location, $"key {shown} of collection '{collection.Name}' has no entry; its live row is row {row} of segment {here.Segment}");
                }
                else if (found != here)
                {
                    KeyIndexProblem(CheckSeverity.Damage, location, $"key {shown} of collection '{collection.Name}' points at row {found.Row} of segment {found.Segment}; its live row is row {row} of segment {here.Segment}");
                }
                previous = (key, i, row);
                if (cursors[i].MoveNext())
                {
                    heads.Enqueue(i, cursors[i].Current.Key);
                }
            }
        }
        finally
        {
            cursors.ForEach(c => c.Dispose());
        }
    }

    // The live rows of a segment and their keys, in row order; blocks that cannot be decoded are skipped (reported by Verify).
    private static IEnumerable<(int Row, byte[] Key)> LiveKeys(SegmentReader reader, DeletionBitmap deleted)
    {
        for (int block = 0; block * SegmentFormat.RowsPerBlock < reader.Rows; block++)
        {
            byte[][]? keys = TryKeysOfBlock(reader, block);
            for (int i = 0; keys is not null && i < keys.Length; i++)
            {
                int row = block * SegmentFormat.RowsPerBlock + i;
                if (!deleted.IsDeleted(row))
                {
                    yield return (row, keys[i]);
                }
            }
        }
    }

    private static byte[][]? TryKeysOfBlock(SegmentReader reader, int block)
    {
        try
        {
            return reader.KeysOfBlock(block);
        }
        catch (CorruptionException)
        {
            return null;
        }
    }

    // Every entry of the index points at a row of its collection that holds its key: entries for rows that do not exist,
    // or that hold another key, are damage; an entry for its own key's deleted row is stale but harmless (lookups check the bitmap).
    private void CompareEntries(IKeyIndex index, ManifestState manifest, List<CheckedSegment> segments, string location)
    {
        var collections = manifest.Collections.ToDictionary(c => c.Id);
        var byFile = segments.GroupBy(s => s.Collection.Id).ToDictionary(g => g.Key, g => g.ToDictionary(s => s.State.FileNumber));
        var blocks = new Dictionary<(long Segment, int Block), byte[][]?>();
        foreach (KeyIndexEntry entry in index.Entries())
        {
            if (!collections.TryGetValue(entry.Collection, out CollectionState? collection))
            {
                KeyIndexProblem(CheckSeverity.Damage, location, $"an entry of collection id {entry.Collection}, which the manifest does not have (key {Convert.ToHexString(entry.Key)})");
                continue;
            }
            string shown = ShowKey(collection, entry.Key);
            RowLocation at = entry.Location;
            if (!byFile.TryGetValue(collection.Id, out var files) || !files.TryGetValue(at.Segment, out CheckedSegment? segment))
            {
                KeyIndexProblem(CheckSeverity.Damage, location, $"key {shown} of collection '{collection.Name}' points at segment {at.Segment}, which the collection does not have");
                continue;
            }
            if (segment.Reader is not { } reader || segment.Deleted is not { } deleted)
            {
                continue; // the segment or its bitmap is damaged (reported): the entry cannot be judged
            }
            if (at.Row < 0 || at.Row >= reader.Rows)
            {
                KeyIndexProblem(CheckSeverity.Damage, location, $"key {shown} of collection '{collection.Name}' points at row {at.Row} of segment {at.Segment}, which has {reader.Rows} rows");
                continue;
            }
            int block = at.Row / SegmentFormat.RowsPerBlock;
            if (!blocks.TryGetValue((at.Segment, block), out byte[][]? keys))
            {
                if (blocks.Count >= 256)
                {
                    blocks.Clear();
                }
                keys = blocks[(at.Segment, block)] = TryKeysOfBlock(reader, block);
            }
            if (keys is null)
            {
                continue; // a damaged key block (reported)
            }
            byte[] stored = keys[at.Row % SegmentFormat.RowsPerBlock];
            bool same = stored.AsSpan().SequenceEqual(entry.Key);
            if (same && deleted.IsDeleted(at.Row))
            {
                KeyIndexProblem(CheckSeverity.Notice, location, $"key {shown} of collection '{collection.Name}' points at its deleted row {at.Row} of segment {at.Segment}: a stale entry, harmless (lookups check the bitmap)");
            }
            else if (!same)
            {
                KeyIndexProblem(CheckSeverity.Damage, location, $"key {shown} of collection '{collection.Name}' points at row {at.Row} of segment {at.Segment}, which holds key {ShowKey(collection, stored)}{(deleted.IsDeleted(at.Row) ? " (deleted)" : "")}");
            }
        }
    }

    // A key as its collection's users know it, or in hex when it cannot be decoded.
    private static string ShowKey(CollectionState collection, byte[] key)
    {
        if (KeyBytes.Problem(collection.KeyKind, key) is not null)
        {
            return $"0x{Convert.ToHexString(key)}";
        }
        return collection.KeyKind switch
        {
            KeyKind.UInt64 => UInt64Codec.Decode(key).ToString(System.Globalization.CultureInfo.InvariantCulture),
            KeyKind.Guid => GuidCodec.Decode(key).ToString(),
            _ => $"\"{Encoding.UTF8.GetString(key)}\"",
        };
    }
}
