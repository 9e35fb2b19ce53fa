using System.Collections.Immutable;
using System.Globalization;
using HammingDB.Index;
using HammingDB.Index.Mih;
using HammingDB.Query;
using HammingDB.Storage;
using HammingDB.Kernels;
using HammingDB.Storage.Manifest;
using HammingDB.Storage.Segments;
using HammingDB.Writing;

namespace HammingDB;

/// <summary>
/// An open segment file, reference-counted: the collection holds one reference while the segment
/// is live, and every search that reads it holds one more. When compaction retires it, the last
/// reference to go unmaps it and deletes its file, so no running query ever loses its codes.
/// </summary>
/// <remarks>
/// Its MIH tables are checked (per-MiB checksums) in the background after it opens, so opening stays
/// quick; until they pass, <see cref="Mih"/> is null and searches scan the segment. Tables that fail
/// the check are never used (<see cref="MihError"/> says why; <c>Check</c> reports the damage).
/// </remarks>
internal sealed class SegmentHandle
{
    private readonly Action<SegmentHandle> _onUnused;
    private readonly Task _tablesChecked;
    private int _references = 1;
    private byte[]? _firstKey;
    private byte[]? _lastKey;
    private volatile MihIndex? _mih;

    public SegmentHandle(long fileNumber, SegmentReader reader, Action<SegmentHandle> onUnused)
    {
        FileNumber = fileNumber;
        Reader = reader;
        _onUnused = onUnused;
        _tablesChecked = reader.MihTables.Count == 0 ? Task.CompletedTask : Task.Run(OpenTables);
    }

    public long FileNumber { get; }

    public SegmentReader Reader { get; }

    /// <summary>The segment's MIH tables once checked; null while they are checked, when it has none, or when they failed.</summary>
    public MihIndex? Mih => _mih;

    /// <summary>Why the tables are not used, when they failed their check.</summary>
    public string? MihError { get; private set; }

    /// <summary>Waits until the tables are checked (tests, and searches that force MIH).</summary>
    public void WaitForTables(CancellationToken cancellationToken = default) => _tablesChecked.Wait(cancellationToken);

    private void OpenTables()
    {
        try
        {
            if (!Reader.MihTablesVerified)
            {
                Reader.VerifyMihTables();
            }
            _mih = SegmentTables.Open(Reader);
        }
        catch (Exception e) when (e is CorruptionException or ArgumentException or ObjectDisposedException)
        {
            MihError = e.Message;
        }
    }

    /// <summary>
    /// Whether <paramref name="key"/> lies within the segment's keys (rows are sorted by key): a key
    /// outside needs no key-index lookup, which makes ascending-key ingest skip the index entirely.
    /// </summary>
    public bool MayHold(ReadOnlySpan<byte> key)
    {
        if (Reader.Rows == 0)
        {
            return false;
        }
        _firstKey ??= Reader.GetKey(0);
        _lastKey ??= Reader.GetKey(Reader.Rows - 1);
        return key.SequenceCompareTo(_firstKey) >= 0 && key.SequenceCompareTo(_lastKey) <= 0;
    }

    /// <summary>Takes a reference; callers hold the collection's gate, under which a live segment is never released.</summary>
    public void Acquire()
    {
        if (Interlocked.Increment(ref _references) <= 1)
        {
            throw new InvalidOperationException($"Segment {FileNumber} was acquired after its release.");
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _tablesChecked.Wait();
            _onUnused(this);
        }
    }
}

/// <summary>A sealed segment as searches see it: the open file, its deletion bitmap, and the deletions since.</summary>
internal sealed class SegmentView(SegmentHandle handle, DeletionBitmap deleted, long deletionVersion, ImmutableHashSet<int> deletedSince)
{
    public SegmentHandle Handle { get; } = handle;

    public long FileNumber => Handle.FileNumber;

    public SegmentReader Reader => Handle.Reader;

    /// <summary>The rows deleted as of the live bitmap file.</summary>
    public DeletionBitmap Deleted { get; } = deleted;

    public long DeletionVersion { get; } = deletionVersion;

    /// <summary>Rows deleted since that file, not yet written to a new version (the log has them).</summary>
    public ImmutableHashSet<int> DeletedSince { get; } = deletedSince;

    public bool IsLive(int row) => !Deleted.IsDeleted(row) && !DeletedSince.Contains(row);

    public int LiveRows => Deleted.Rows - Deleted.DeletedRows - DeletedSince.Count;

    public SegmentView WithDeleted(int row) => new(Handle, Deleted, DeletionVersion, DeletedSince.Add(row));
}

/// <summary>
/// One collection's state: its definition, its sealed segments (an immutable list swapped whole, so
/// a search reads one consistent list) and its memtable. Mutated by the writer only.
/// </summary>
internal sealed class CollectionRuntime(CollectionState definition, Memtable memtable, ImmutableArray<SegmentView> segments)
{
    public CollectionState Definition { get; } = definition;

    public CollectionShape Shape { get; } = new(new CodeLayout(definition.CodeBits), definition.HasPayloads, definition.VectorDimension);

    public Memtable Memtable { get; set; } = memtable;

    public ImmutableArray<SegmentView> Segments { get; set; } = segments;

    /// <summary>While a compaction commit moves key-index entries: where the rows of its inputs went.</summary>
    public volatile CompactionMoves? Moving;

    /// <summary>
    /// The planner's cost model for this collection's code width (defaults until a calibration on its largest segment is
    /// ready), corrected by the searches' own times: a new calibration starts a new correction.
    /// </summary>
    public volatile CostFeedback Costs = new(CostModel.Defaults);

    /// <summary>
    /// The least time between two calibrations when the searches' times drift from the last one (<see cref="CostFeedback.Drifted"/>):
    /// a calibration taken in a slow spell of the machine is itself often off (c256-10m: posting 160 ns, then 418 ns, against
    /// about 60 ns when the machine is calm), so it is redone once a minute at most and the correction covers the rest.
    /// </summary>
    public long RecalibrateAfterMs { get; private set; } = 60_000;

    private long _calibratedFor = -1;
    private long _calibratedAt;
    private int _calibrating;
    private Task _calibration = Task.CompletedTask;

    /// <summary>Waits for a running calibration (before the segments are closed).</summary>
    public void WaitForCalibration(CancellationToken cancellationToken = default) => Volatile.Read(ref _calibration).Wait(cancellationToken);

    /// <summary>
    /// Fixes <see cref="Costs"/> to <paramref name="model"/>: no calibration replaces it, and unless <paramref name="learns"/> the
    /// searches' times do not correct it.
    /// </summary>
    public void PinCosts(CostModel model, bool learns)
    {
        // Take the calibration slot for good (waiting for a running calibration to finish) unless already pinned.
        while (!_pinned && Interlocked.CompareExchange(ref _calibrating, 1, 0) != 0)
        {
            Thread.Sleep(1);
        }
        _pinned = true;
        Costs = new CostFeedback(model, learns);
    }

    private volatile bool _pinned;

    /// <summary>
    /// Replaces the calibrated model with <paramref name="model"/> (after a running calibration), as if measured: the searches'
    /// times correct it and recalibrate when they drift from it, at most every <paramref name="recalibrateAfterMs"/> (tests).
    /// </summary>
    public void ReplaceCalibration(CostModel model, long recalibrateAfterMs)
    {
        WaitForCalibration();
        RecalibrateAfterMs = recalibrateAfterMs;
        Costs = new CostFeedback(model);
    }

    /// <summary>
    /// Starts a calibration of <see cref="Costs"/> in the background when the largest segment with
    /// tables in <paramref name="segments"/> is not the one calibrated on, or when the searches' times
    /// drifted from the calibration (at most every <see cref="RecalibrateAfterMs"/>; once at a time).
    /// Called by searches, which hold a lease on the segments.
    /// </summary>
    public void CalibrateIfNeeded(ImmutableArray<SegmentView> segments, IsaLevel? isa)
    {
        SegmentView? largest = null;
        foreach (SegmentView segment in segments)
        {
            if (segment.Handle.Mih is not null && (largest is null || segment.Reader.Rows > largest.Reader.Rows))
            {
                largest = segment;
            }
        }
        CostFeedback previous = Costs;
        bool drifted = previous.Drifted && Environment.TickCount64 - Interlocked.Read(ref _calibratedAt) >= RecalibrateAfterMs;
        if (largest is null || (largest.FileNumber == Interlocked.Read(ref _calibratedFor) && !drifted) || Interlocked.CompareExchange(ref _calibrating, 1, 0) != 0)
        {
            return;
        }
        SegmentHandle handle = largest.Handle;
        handle.Acquire(); // the caller's lease holds another reference, so this one is safe
        _calibration = Task.Run(() =>
        {
            try
            {
                CostModel model = Calibration.Measure(handle.Mih!, handle.Reader.Codes, isa, CostModel.Defaults);
                if (drifted)
                {
                    model = model with
                    {
                        Source = string.Create(CultureInfo.InvariantCulture,
                            $"{model.Source}; recalibrated: the searches had drifted from the last calibration (MIH x{previous.Factor(CostKind.MihRadius):0.00} radius, x{previous.Factor(CostKind.MihKnn):0.00} kNN, scan x{previous.Factor(CostKind.Scan):0.00})"),
                    };
                }
                Costs = new CostFeedback(model);
                Interlocked.Exchange(ref _calibratedFor, handle.FileNumber);
            }
#pragma warning disable CA1031 // a failed calibration changes no answer: the previous cost model stays
            catch (Exception)
#pragma warning restore CA1031
            {
                Interlocked.Exchange(ref _calibratedFor, handle.FileNumber);
            }
            finally
            {
                Interlocked.Exchange(ref _calibratedAt, Environment.TickCount64);
                handle.Release();
                Volatile.Write(ref _calibrating, 0);
            }
        });
    }

    /// <summary>Guards the pair (segments, memtable), which the writer swaps together at a seal.</summary>
    public object Gate { get; } = new();

    /// <summary>A consistent view for one search: segments (each held until the lease is disposed) and memtable as of now.</summary>
    public ViewLease Lease()
    {
        lock (Gate)
        {
            foreach (SegmentView segment in Segments)
            {
                segment.Handle.Acquire();
            }
            return new ViewLease(Segments, Memtable.Snapshot());
        }
    }
}

/// <summary>Segments and memtable of one moment; disposing it releases the segments.</summary>
internal sealed class ViewLease(ImmutableArray<SegmentView> segments, MemtableSnapshot memtable) : IDisposable
{
    private int _released;

    public ImmutableArray<SegmentView> Segments { get; } = segments;

    public MemtableSnapshot Memtable { get; } = memtable;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            foreach (SegmentView segment in Segments)
            {
                segment.Handle.Release();
            }
        }
    }
}

/// <summary>The row map of a compaction being committed: input segment file number -> merged row of each input row (-1: dropped).</summary>
internal sealed record CompactionMoves(long MergedFileNumber, Dictionary<long, int[]> NewRows);
