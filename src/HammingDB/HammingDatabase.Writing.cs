using System.Collections.Immutable;
using HammingDB.Index;
using HammingDB.Storage;
using HammingDB.Storage.Keys;
using HammingDB.Storage.Log;
using HammingDB.Storage.Manifest;
using HammingDB.Storage.Segments;
using HammingDB.Writing;

namespace HammingDB;

public sealed partial class HammingDatabase
{
    /// <summary>
    /// Makes a batch durable (one log record), then applies it. Writers on many threads share fsyncs
    /// (group commit); a batch is all or nothing, in the log and after a crash.
    /// </summary>
    internal void Write(CollectionRuntime collection, WriteBatch batch, IReadOnlyList<BatchEntry> entries)
    {
        if (entries.Count > 0)
        {
            Commit(collection, batch, entries, reportExisted: false);
        }
    }

    /// <summary>Writes a one-delete (or one-insert) batch; returns whether the key had a live row (decided when it is applied, in log order).</summary>
    internal bool WriteDelete(CollectionRuntime collection, WriteBatch batch, BatchEntry entry) => Commit(collection, batch, [entry], reportExisted: true);

    // The write path. Under the write lock a record is queued in the log and given a ticket (the order
    // of the log); outside it the writer waits until its record is durable, sharing the fsync with
    // every writer queued meanwhile; then records are applied to memory strictly in ticket order, so
    // memory always equals a replay of the log's durable prefix and a reader never sees a write
    // before it is durable. Anything that changes the segments' structure (seal, compaction commit,
    // close) holds the write lock and first drains: waits until every ticket issued is applied.
    private bool Commit(CollectionRuntime collection, WriteBatch batch, IReadOnlyList<BatchEntry> entries, bool reportExisted)
    {
        ThrowIfReadOnly("a write");
        long ticket;
        long sequence;
        LogWriter log;
        if (reportExisted)
        {
            // A damaged key index entry for the key is refused before anything is logged (the answer
            // itself is decided when the delete is applied, in log order).
            FindSealed(collection, entries[0].Key);
        }
        lock (_writeGate)
        {
            ThrowIfUnusable();
            sequence = _log.Enqueue(WriteBatch.RecordType, batch.Encode());
            log = _log;
            ticket = ++_ticketsIssued;
        }
        try
        {
            log.WaitDurable(sequence);
        }
        catch (Exception e)
        {
            Stop(e);
            throw;
        }
        bool existed = false;
        lock (_applyGate)
        {
            while (_ticketsApplied != ticket - 1)
            {
                ThrowIfFailed();
                Monitor.Wait(_applyGate);
            }
            try
            {
                // What a one-key delete reports is decided here, in log order, as a replay would.
                existed = reportExisted && (collection.Memtable.TryGetRow(entries[0].Key, out _) || FindSealed(collection, entries[0].Key) is not null);
                lock (collection.Gate)
                {
                    foreach (BatchEntry entry in entries)
                    {
                        ApplyEntry(collection, entry);
                    }
                }
            }
            catch (Exception e)
            {
                // Logged but not (wholly) applied: memory is behind the log. Stop; a reopen replays it.
                _failure ??= e;
                Monitor.PulseAll(_applyGate);
                throw;
            }
            _ticketsApplied = ticket;
            Monitor.PulseAll(_applyGate);
        }
        if (collection.Memtable.Rows >= Options.SealRows)
        {
            lock (_writeGate)
            {
                // Another writer may have sealed it meanwhile.
                if (!_disposed && _failure is null && collection.Memtable.Rows >= Options.SealRows)
                {
                    SealLocked();
                    ScheduleCompaction();
                }
            }
        }
        return existed;
    }

    // Stops the database after a failed write: no later write is accepted or applied until a reopen.
    private void Stop(Exception e)
    {
        lock (_applyGate)
        {
            _failure ??= e;
            Monitor.PulseAll(_applyGate);
        }
    }

    // Under the write lock: returns once every record queued is applied (no new one can be queued meanwhile).
    private void DrainLocked()
    {
        lock (_applyGate)
        {
            while (_ticketsApplied != _ticketsIssued)
            {
                ThrowIfFailed();
                Monitor.Wait(_applyGate);
            }
        }
    }

    /// <summary>Seals every memtable into segments and writes new deletion bitmaps; the log starts afresh.</summary>
    /// <exception cref="ReadOnlyDatabaseException">The database is open read-only.</exception>
    public void Flush()
    {
        ThrowIfReadOnly(nameof(Flush));
        lock (_writeGate)
        {
            ThrowIfUnusable();
            SealLocked();
            ScheduleCompaction();
        }
    }

    // Applies one logged operation: the sealed row of the key (if live) becomes deleted, and an upsert goes
    // to the memtable; an insert of a key with a live row changes nothing.
    private void ApplyEntry(CollectionRuntime collection, BatchEntry entry)
    {
        bool inMemtable = collection.Memtable.TryGetRow(entry.Key, out _);
        (int Index, int Row)? sealedRow = inMemtable ? null : FindSealed(collection, entry.Key);
        if (entry.Operation == BatchOperation.Insert && (inMemtable || sealedRow is not null))
        {
            return;
        }
        if (sealedRow is (int index, int row))
        {
            ImmutableArray<SegmentView> segments = collection.Segments;
            collection.Segments = segments.SetItem(index, segments[index].WithDeleted(row));
        }
        if (entry.Operation is BatchOperation.Upsert or BatchOperation.Insert)
        {
            collection.Memtable.Upsert(entry.Key, entry.Code!, entry.Payload, entry.Vector ?? []);
        }
        else
        {
            collection.Memtable.Delete(entry.Key);
        }
    }

    /// <summary>
    /// The segment (index in the list) and row of <paramref name="key"/>'s live sealed row, if any. The
    /// key index is not trusted blindly (FASTER's pages carry no checksum of ours): the key stored at
    /// the row it names must be <paramref name="key"/> (one key block decoded).
    /// </summary>
    /// <exception cref="CorruptionException">The key index points the key at a row that does not exist or holds another key.</exception>
    internal (int Index, int Row)? FindSealed(CollectionRuntime collection, byte[] key)
    {
        ImmutableArray<SegmentView> segments = collection.Segments;
        if (!segments.Any(s => s.Handle.MayHold(key)) || !Keys.TryGet(collection.Definition.Id, key, out RowLocation location))
        {
            return null;
        }
        if (collection.Moving is { } moving && moving.NewRows.TryGetValue(location.Segment, out int[]? newRows) && !segments.Any(s => s.FileNumber == location.Segment))
        {
            // A compaction commit has swapped the segments but not yet moved this entry.
            if ((uint)location.Row >= (uint)newRows.Length || newRows[location.Row] < 0)
            {
                return null;
            }
            location = new RowLocation(moving.MergedFileNumber, newRows[location.Row]);
        }
        for (int i = 0; i < segments.Length; i++)
        {
            SegmentView segment = segments[i];
            if (segment.FileNumber != location.Segment)
            {
                continue;
            }
            if ((uint)location.Row >= (uint)segment.Reader.Rows)
            {
                throw KeyIndexDamaged(collection, key, location, $"which has {segment.Reader.Rows} rows");
            }
            if (!segment.IsLive(location.Row))
            {
                return null;
            }
            if (!segment.Reader.KeyEquals(location.Row, key))
            {
                throw KeyIndexDamaged(collection, key, location, "which holds another key");
            }
            return (i, location.Row);
        }
        return null;
    }

    private CorruptionException KeyIndexDamaged(CollectionRuntime collection, byte[] key, RowLocation location, string what) =>
        new(_keyIndexLocation, -1, $"the key index points key 0x{Convert.ToHexString(key)} of collection '{collection.Definition.Name}' at row {location.Row} of segment {location.Segment}, {what}. " +
            "The index is damaged: remove it and the next open rebuilds it from the segments.");

    // The seal: new segments and deletion bitmaps are written first, then a new log, then the manifest
    // switch commits it all at once; only then are the key index and the in-memory state moved on.
    // A crash before the switch leaves files the next open removes; after it, a key index that open rebuilds.
    private void SealLocked()
    {
        DrainLocked();
        bool anything = _byId.Values.Any(c => c.Memtable.Rows > 0 || c.Segments.Any(s => !s.DeletedSince.IsEmpty));
        if (!anything)
        {
            return;
        }
        long next = _manifest.NextFileNumber;
        var definitions = new List<CollectionState>();
        var newBitmaps = new Dictionary<(uint, long), (DeletionBitmap Bitmap, long Version)>();
        var newSegments = new Dictionary<uint, (long FileNumber, SegmentContents Contents)>();
        foreach (CollectionState definition in _manifest.Collections)
        {
            CollectionRuntime collection = _byId[definition.Id];
            var segments = new List<SegmentState>();
            foreach (SegmentView view in collection.Segments)
            {
                if (view.DeletedSince.IsEmpty)
                {
                    segments.Add(new SegmentState(view.FileNumber, view.Reader.Rows, view.DeletionVersion, view.Deleted.DeletedRows));
                    continue;
                }
                DeletionBitmap merged = view.Deleted.Clone();
                foreach (int row in view.DeletedSince)
                {
                    merged.Delete(row);
                }
                long version = view.DeletionVersion + 1;
                merged.Write(_fs, _directory, view.FileNumber, version);
                newBitmaps[(definition.Id, view.FileNumber)] = (merged, version);
                segments.Add(new SegmentState(view.FileNumber, view.Reader.Rows, version, merged.DeletedRows));
            }
            if (collection.Memtable.LiveRows > 0)
            {
                SegmentContents contents = collection.Memtable.ToSegmentContents(Options.MihMinRows, definition.VectorKind);
                long fileNumber = next++;
                SegmentWriter.Write(_fs, _directory, FileNames.Segment(fileNumber), contents);
                newSegments[definition.Id] = (fileNumber, contents);
                segments.Add(new SegmentState(fileNumber, contents.Codes.Count, 0, 0));
            }
            definitions.Add(definition with { Segments = segments });
        }
        long logNumber = next++;
        LogWriter newLog = LogWriter.Create(_fs, _directory, logNumber);
        var manifest = new ManifestState(_manifest.Version + 1, next, logNumber, definitions);
        try
        {
            ManifestStore.Write(_fs, _directory, manifest);
        }
        catch (Exception e)
        {
            newLog.Dispose();
            // The switch may have happened (renamed, then the directory sync failed): the disk may name the
            // new log, and a write acknowledged from the old one would be lost at the next open. Stop.
            _failure = e;
            throw;
        }
        if (newBitmaps.Count > 0)
        {
            KillPoints.Hit(KillPoints.DeletionsSwitched);
        }

        // Committed. From here a failure leaves memory behind the disk: stop, and let a reopen recover.
        try
        {
            ManifestState old = _manifest;
            LogWriter oldLog = _log;
            _manifest = manifest;
            _log = newLog;
            foreach (CollectionRuntime collection in _byId.Values)
            {
                MoveOn(collection, newBitmaps, newSegments);
            }
            CheckpointKeys(Keys, manifest.Version);
            oldLog.Dispose();
            KillPoints.Hit(KillPoints.LogTrimBefore);
            _fs.Delete(System.IO.Path.Combine(_directory, FileNames.Log(old.LogNumber)));
            KillPoints.Hit(KillPoints.LogTrimAfter);
            foreach (SegmentState segment in old.Collections.SelectMany(c => c.Segments).Where(s => s.DeletionVersion > 0))
            {
                if (manifest.Collections.SelectMany(c => c.Segments).Any(s => s.FileNumber == segment.FileNumber && s.DeletionVersion != segment.DeletionVersion))
                {
                    _fs.Delete(System.IO.Path.Combine(_directory, FileNames.Deletions(segment.FileNumber, segment.DeletionVersion)));
                    KillPoints.Hit(KillPoints.DeletionsOldDeleted);
                }
            }
        }
        catch (Exception e)
        {
            _failure = e;
            throw;
        }
    }

    // Points the collection at its new segments and bitmaps, updates the key index, and starts an empty memtable.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void MoveOn(CollectionRuntime collection, Dictionary<(uint, long), (DeletionBitmap Bitmap, long Version)> newBitmaps,
        Dictionary<uint, (long FileNumber, SegmentContents Contents)> newSegments)
    {
        uint id = collection.Definition.Id;
        var views = ImmutableArray.CreateBuilder<SegmentView>();
        HashSet<byte[]>? sealedKeys = null;
        bool anyDeleted = collection.Segments.Any(view => newBitmaps.ContainsKey((id, view.FileNumber)));
        if (newSegments.TryGetValue(id, out var created))
        {
            // Only needed to tell deleted keys from keys written again: built only when there are deletions.
            sealedKeys = anyDeleted ? new HashSet<byte[]>(created.Contents.Keys, KeyComparer.Instance) : null;
            Keys.UpsertRows(id, created.Contents.Keys, created.FileNumber);
        }
        foreach (SegmentView view in collection.Segments)
        {
            if (!newBitmaps.TryGetValue((id, view.FileNumber), out var bitmap))
            {
                views.Add(view);
                continue;
            }
            // Keys deleted and not written again are removed from the index.
            byte[][] deletedKeys = view.Reader.GetKeys(view.DeletedSince.ToList());
            foreach (byte[] key in deletedKeys.Where(k => sealedKeys is null || !sealedKeys.Contains(k)))
            {
                Keys.Delete(id, key);
            }
            views.Add(new SegmentView(view.Handle, bitmap.Bitmap, bitmap.Version, []));
        }
        if (created.Contents is not null)
        {
            views.Add(new SegmentView(NewHandle(created.FileNumber, SegmentReader.Open(_fs, SegmentPath(created.FileNumber), verifyMihTables: false)), new DeletionBitmap(created.Contents.Codes.Count), 0, []));
        }
        lock (collection.Gate)
        {
            collection.Segments = views.ToImmutable();
            collection.Memtable = NewMemtable(collection.Definition);
        }
    }
}
