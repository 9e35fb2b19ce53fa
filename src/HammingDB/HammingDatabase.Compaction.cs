using System.Collections.Immutable;
using HammingDB.Index;
using HammingDB.Index.Mih;
using HammingDB.Kernels;
using HammingDB.Storage;
using HammingDB.Storage.Keys;
using HammingDB.Storage.Manifest;
using HammingDB.Storage.Segments;

namespace HammingDB;

public sealed partial class HammingDatabase
{
    private readonly object _compactionGate = new();

    /// <summary>Test seam: runs between a compaction's merge and its commit (writes made here happen "during" the merge).</summary>
    internal Action? AfterCompactionMerge { get; set; }

    /// <summary>Test seam: runs during a compaction commit, after the segments are swapped and before the key-index entries move.</summary>
    internal Action? BeforeCompactionIndexMoves { get; set; }

    /// <summary>
    /// Merges every collection's segments into one, dropping deleted and superseded rows. Searches go
    /// on meanwhile on the segments they started with; writers wait only for the short commit.
    /// Crash-safe: the manifest switch is the single point at which the merged segment replaces the
    /// old ones, and the old files are deleted once no search reads them.
    /// </summary>
    /// <exception cref="ReadOnlyDatabaseException">The database is open read-only.</exception>
    public void Compact()
    {
        ThrowIfReadOnly(nameof(Compact));
        lock (_compactionGate)
        {
            List<CollectionRuntime> collections;
            lock (_writeGate)
            {
                ThrowIfUnusable();
                collections = [.. _byId.Values];
            }
            foreach (CollectionRuntime collection in collections)
            {
                CompactCollection(collection);
            }
        }
    }

    /// <summary>Runs <see cref="Compact"/> on the thread pool; await it to know it is done.</summary>
    /// <exception cref="ReadOnlyDatabaseException">The database is open read-only (thrown at once).</exception>
    public Task CompactAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfReadOnly(nameof(CompactAsync));
        return Task.Run(Compact, cancellationToken);
    }

    /// <summary>The error of the last background compaction that failed, if any (it changed nothing on disk that a reopen would keep).</summary>
    public Exception? LastBackgroundCompactionError { get; private set; }

    private Task _background = Task.CompletedTask;
    private volatile bool _closing;

    /// <summary>The background compaction running or last run (tests await it).</summary>
    internal Task BackgroundCompactionTask => _background;

    // Size tiers: segments whose live rows are within a factor of 4 share a tier.
    private static int Tier(SegmentView segment) => (int)Math.Log(Math.Max(1, segment.LiveRows), 4);

    // The segments of the smallest tier holding at least the configured number of segments, or none.
    private List<SegmentView> ChooseTier(ImmutableArray<SegmentView> segments) =>
        segments.GroupBy(Tier).Where(g => g.Count() >= Math.Max(2, Options.CompactionMinSegments)).OrderBy(g => g.Key)
            .Select(g => g.ToList()).FirstOrDefault() ?? [];

    // Called by the writer after a seal: starts a background size-tiered compaction if one is due and none runs.
    private void ScheduleCompaction()
    {
        if (!Options.BackgroundCompaction || _closing || !_background.IsCompleted
            || !_byId.Values.Any(c => ChooseTier(c.Segments).Count > 0))
        {
            return;
        }
        _background = Task.Run(() =>
        {
            try
            {
                lock (_compactionGate)
                {
                    List<CollectionRuntime> collections;
                    lock (_writeGate)
                    {
                        collections = [.. _byId.Values];
                    }
                    foreach (CollectionRuntime collection in collections)
                    {
                        while (!_closing && CompactCollection(collection, ChooseTier))
                        {
                        }
                    }
                }
            }
#pragma warning disable CA1031 // a background failure before its commit leaves only files the next open removes; after it, the database has stopped
            catch (Exception e)
#pragma warning restore CA1031
            {
                LastBackgroundCompactionError = e;
            }
        });
    }

    // Lets a running background compaction finish (it needs the write lock to commit): called before Dispose takes it.
    private void StopBackgroundCompaction()
    {
        _closing = true;
        try
        {
            _background.Wait();
        }
        catch (AggregateException)
        {
        }
    }

    private void CompactCollection(CollectionRuntime collection) => CompactCollection(collection, segments => [.. segments]);

    // Merges the segments <paramref name="choose"/> picks; returns whether it merged anything.
    private bool CompactCollection(CollectionRuntime collection, Func<ImmutableArray<SegmentView>, List<SegmentView>> choose)
    {
        // 1. Capture the inputs (and hold them) and reserve a file number, under the write lock.
        List<SegmentView> inputs;
        long fileNumber;
        lock (_writeGate)
        {
            ThrowIfUnusable();
            inputs = choose(collection.Segments);
            if (inputs.Count < 2 && inputs.All(s => s.LiveRows == s.Reader.Rows))
            {
                return false;
            }
            fileNumber = _manifest.NextFileNumber;
            _manifest = _manifest with { NextFileNumber = fileNumber + 1 };
            inputs.ForEach(s => s.Handle.Acquire());
        }
        try
        {
            // 2. Merge the live rows by key, without any lock.
            (SegmentContents contents, int[][] newRows) = Merge(collection, inputs);
            SegmentWriter.Write(_fs, _directory, FileNames.Segment(fileNumber), contents);
            KillPoints.Hit(KillPoints.CompactionSegmentDurable);
            SegmentReader reader = SegmentReader.Open(_fs, SegmentPath(fileNumber), verifyMihTables: false);
            AfterCompactionMerge?.Invoke();

            // 3. Commit under the write lock: carry over rows deleted meanwhile, switch, then move on.
            lock (_writeGate)
            {
                try
                {
                    ThrowIfUnusable();
                    DrainLocked();
                }
                catch
                {
                    reader.Dispose();
                    throw;
                }
                CommitCompaction(collection, inputs, newRows, fileNumber, contents, reader);
            }
            return true;
        }
        finally
        {
            inputs.ForEach(s => s.Handle.Release());
        }
    }

    // A k-way merge of the inputs' live rows: in each input rows are in key order, and a key is live in at most one.
    private (SegmentContents Contents, int[][] NewRows) Merge(CollectionRuntime collection, List<SegmentView> inputs)
    {
        CollectionState definition = collection.Definition;
        int total = inputs.Sum(s => s.LiveRows);
        var codes = new PackedCodes(collection.Shape.Layout, total);
        var keys = new List<byte[]>(total);
        var payloads = definition.HasPayloads ? new List<byte[]>(total) : null;
        // Vectors are carried through as the collection stores them: int8 rows are copied as stored (never quantized twice).
        int dimension = definition.VectorDimension;
        bool int8 = dimension > 0 && definition.VectorKind == VectorKind.Int8;
        int int8Stride = Int8Vectors.RowBytes(dimension);
        float[] vectors = int8 ? [] : new float[(long)total * dimension];
        byte[]? int8Rows = int8 ? new byte[(long)total * int8Stride] : null;
        float[] scratch = int8 ? new float[dimension] : [];
        var newRows = inputs.Select(s => Enumerable.Repeat(-1, s.Reader.Rows).ToArray()).ToArray();
        var cursors = inputs.Select(s => s.Reader.AllKeys().GetEnumerator()).ToArray();
        // Payloads in step with the keys, each block decoded once (GetPayload per row decodes its whole block).
        var payloadCursors = definition.HasPayloads ? inputs.Select(s => s.Reader.AllPayloads().GetEnumerator()).ToArray() : null;
        var rows = new int[inputs.Count];
        var heap = new PriorityQueue<int, byte[]>(KeyOrder.Instance);
        void Advance(int input)
        {
            while (cursors[input].MoveNext())
            {
                payloadCursors?[input].MoveNext();
                int row = rows[input]++;
                if (inputs[input].IsLive(row))
                {
                    heap.Enqueue(input, cursors[input].Current);
                    return;
                }
            }
        }
        for (int i = 0; i < inputs.Count; i++)
        {
            Advance(i);
        }
        while (heap.TryDequeue(out int input, out byte[]? key))
        {
            SegmentReader reader = inputs[input].Reader;
            int row = rows[input] - 1;
            newRows[input][row] = keys.Count;
            codes.Add(reader.Codes[row]);
            keys.Add(key);
            payloads?.Add(payloadCursors![input].Current);
            int at = keys.Count - 1;
            if (int8Rows is not null)
            {
                Span<byte> target = int8Rows.AsSpan(at * int8Stride, int8Stride);
                if (reader.VectorKind == VectorKind.Int8)
                {
                    reader.Int8Row(row).CopyTo(target);
                }
                else
                {
                    reader.ReadVector(row, scratch);
                    Int8Vectors.Quantize(scratch, target);
                }
            }
            else if (dimension > 0)
            {
                reader.ReadVector(row, vectors.AsSpan(at * dimension, dimension));
            }
            Advance(input);
        }
        foreach (IEnumerator<byte[]> cursor in cursors.Concat(payloadCursors ?? []))
        {
            cursor.Dispose();
        }
        var contents = new SegmentContents
        {
            Codes = codes, KeyKind = definition.KeyKind, Keys = keys, Payloads = payloads, Vectors = vectors, VectorDimension = dimension,
            VectorKind = int8 ? VectorKind.Int8 : VectorKind.Float32, Int8Rows = int8Rows,
            MihTables = SegmentTables.Build(codes.Block, Options.MihMinRows),
        };
        return (contents, newRows);
    }

    private void CommitCompaction(CollectionRuntime collection, List<SegmentView> inputs, int[][] newRows, long fileNumber, SegmentContents contents, SegmentReader reader)
    {
        uint id = collection.Definition.Id;
        var inputNumbers = inputs.Select(s => s.FileNumber).ToHashSet();
        // Rows of the inputs deleted since the capture are deleted in the merged segment too.
        var deletedSince = new HashSet<int>();
        var current = collection.Segments.Where(s => inputNumbers.Contains(s.FileNumber)).ToDictionary(s => s.FileNumber);
        for (int i = 0; i < inputs.Count; i++)
        {
            SegmentView now = current[inputs[i].FileNumber];
            for (int row = 0; row < newRows[i].Length; row++)
            {
                if (newRows[i][row] >= 0 && !now.IsLive(row))
                {
                    deletedSince.Add(newRows[i][row]);
                }
            }
        }
        // Those deletions may no longer be in the log (a seal during the merge starts a new one): they are
        // written as the merged segment's first deletion bitmap, before the switch that names it.
        var deleted = new DeletionBitmap(contents.Codes.Count);
        long deletionVersion = 0;
        if (deletedSince.Count > 0)
        {
            foreach (int row in deletedSince)
            {
                deleted.Delete(row);
            }
            deletionVersion = 1;
            try
            {
                deleted.Write(_fs, _directory, fileNumber, deletionVersion);
            }
            catch
            {
                reader.Dispose();
                throw;
            }
        }
        CollectionState definition = _manifest.Collections.Single(c => c.Id == id);
        List<SegmentState> replaced = definition.Segments.Where(s => inputNumbers.Contains(s.FileNumber)).ToList();
        var segments = definition.Segments.Where(s => !inputNumbers.Contains(s.FileNumber))
            .Append(new SegmentState(fileNumber, contents.Codes.Count, deletionVersion, deleted.DeletedRows)).ToList();
        var manifest = _manifest with
        {
            Version = _manifest.Version + 1,
            NextFileNumber = Math.Max(_manifest.NextFileNumber, fileNumber + 1),
            Collections = _manifest.Collections.Select(c => c.Id == id ? c with { Segments = segments } : c).ToList(),
        };
        try
        {
            ManifestStore.Write(_fs, _directory, manifest);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
        KillPoints.Hit(KillPoints.CompactionSwitched);

        // Committed. From here a failure leaves memory behind the disk: stop, and let a reopen recover.
        try
        {
            _manifest = manifest;
            // Searches see the merged segment at once; until the index entries have moved, a lookup that
            // finds an input row is translated through the merge's row map (FindSealed).
            var merged = new SegmentView(NewHandle(fileNumber, reader), deleted, deletionVersion, []);
            collection.Moving = new CompactionMoves(fileNumber, inputs.Select((s, i) => (s.FileNumber, newRows[i])).ToDictionary(e => e.FileNumber, e => e.Item2));
            lock (collection.Gate)
            {
                collection.Segments = [.. collection.Segments.Where(s => !inputNumbers.Contains(s.FileNumber)), merged];
            }
            BeforeCompactionIndexMoves?.Invoke();
            for (int i = 0; i < inputs.Count; i++)
            {
                // Only entries still pointing at a merged input row move: a key written again meanwhile
                // (and perhaps sealed by a flush during the merge) keeps its newer location. A row deleted
                // during the merge starts deleted in the merged segment: its entry goes (it has no live
                // sealed row; if the key was written again, the seal of its memtable adds it back).
                for (int row = 0; row < newRows[i].Length; row++)
                {
                    int mergedRow = newRows[i][row];
                    if (mergedRow >= 0 && Keys.TryGet(id, contents.Keys[mergedRow], out RowLocation at) && at == new RowLocation(inputs[i].FileNumber, row))
                    {
                        if (deletedSince.Contains(mergedRow))
                        {
                            Keys.Delete(id, contents.Keys[mergedRow]);
                        }
                        else
                        {
                            Keys.Upsert(id, contents.Keys[mergedRow], new RowLocation(fileNumber, mergedRow));
                        }
                    }
                }
            }
            for (int i = 0; i < inputs.Count; i++)
            {
                // Keys whose rows were dead in the inputs: drop index entries that still point at those rows.
                List<int> dead = Enumerable.Range(0, newRows[i].Length).Where(r => newRows[i][r] < 0).ToList();
                byte[][] deadKeys = inputs[i].Reader.GetKeys(dead);
                for (int d = 0; d < dead.Count; d++)
                {
                    if (Keys.TryGet(id, deadKeys[d], out RowLocation at) && at == new RowLocation(inputs[i].FileNumber, dead[d]))
                    {
                        Keys.Delete(id, deadKeys[d]);
                    }
                }
            }
            CheckpointKeys(Keys, manifest.Version);
            collection.Moving = null;
            KillPoints.Hit(KillPoints.CompactionIndexMoved);
            foreach (SegmentView input in inputs)
            {
                _retired[input.Handle] = true;
                input.Handle.Release(); // the collection's reference; the file goes when the last search does
            }
            foreach (SegmentState old in replaced.Where(s => s.DeletionVersion > 0))
            {
                _fs.Delete(System.IO.Path.Combine(_directory, FileNames.Deletions(old.FileNumber, old.DeletionVersion)));
            }
            KillPoints.Hit(KillPoints.CompactionInputsDeleted);
        }
        catch (Exception e)
        {
            _failure = e;
            throw;
        }
    }
}
