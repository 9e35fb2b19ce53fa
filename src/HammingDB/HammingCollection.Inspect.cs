using HammingDB.Index;
using HammingDB.Keys;

namespace HammingDB;

public sealed partial class HammingCollection<TKey>
{
    /// <summary>The collection's size now: live rows, rows awaiting compaction, segments and their bytes.</summary>
    public CollectionStats GetStats()
    {
        using ViewLease view = _runtime.Lease();
        long segmentRows = view.Segments.Sum(s => (long)s.Reader.Rows);
        long liveSealed = view.Segments.Sum(s => (long)s.LiveRows);
        long memtableRows = Enumerable.Range(0, view.Memtable.Rows).Count(view.Memtable.IsVisible);
        return new CollectionStats(
            Rows: liveSealed + memtableRows,
            DeletedRows: segmentRows - liveSealed,
            Segments: view.Segments.Length,
            SegmentRows: segmentRows,
            SegmentBytes: view.Segments.Sum(s => s.Reader.FileBytes),
            MemtableRows: memtableRows);
    }

    /// <summary>
    /// Every live row of one consistent view, in key order (what <c>hdb export</c> writes). The view is
    /// held until the enumeration ends or is disposed; writes made meanwhile are not seen.
    /// </summary>
    public IEnumerable<StoredRow<TKey>> EnumerateRows()
    {
        using ViewLease view = _runtime.Lease();
        var sources = new List<IEnumerator<StoredRow<TKey>>>();
        try
        {
            foreach (SegmentView segment in view.Segments)
            {
                sources.Add(SegmentRows(segment).GetEnumerator());
            }
            sources.Add(MemtableRows(view.Memtable).GetEnumerator());
            // A k-way merge by encoded key: a key is live in at most one source.
            var heads = new PriorityQueue<int, byte[]>(KeyOrder.Instance);
            var current = new (byte[] Key, StoredRow<TKey> Row)[sources.Count];
            for (int i = 0; i < sources.Count; i++)
            {
                Advance(i);
            }
            while (heads.TryDequeue(out int source, out _))
            {
                yield return current[source].Row;
                Advance(source);
            }

            void Advance(int i)
            {
                if (sources[i].MoveNext())
                {
                    StoredRow<TKey> row = sources[i].Current;
                    byte[] key = KeyCodecFor<TKey>.Encode(row.Key);
                    current[i] = (key, row);
                    heads.Enqueue(i, key);
                }
            }
        }
        finally
        {
            foreach (IEnumerator<StoredRow<TKey>> source in sources)
            {
                source.Dispose();
            }
        }
    }

    private static IEnumerable<StoredRow<TKey>> SegmentRows(SegmentView segment)
    {
        var reader = segment.Reader;
        using IEnumerator<byte[]>? payloads = reader.HasPayloads ? reader.AllPayloads().GetEnumerator() : null;
        int row = 0;
        foreach (byte[] key in reader.AllKeys())
        {
            byte[]? payload = null;
            if (payloads is not null)
            {
                payloads.MoveNext();
                payload = payloads.Current;
            }
            if (segment.IsLive(row))
            {
                yield return new StoredRow<TKey>(KeyCodecFor<TKey>.Decode(key), reader.Codes[row].ToArray(), payload,
                    reader.VectorDimension > 0 ? reader.GetVector(row) : null);
            }
            row++;
        }
    }

    private static IEnumerable<StoredRow<TKey>> MemtableRows(MemtableSnapshot memtable)
    {
        int[] rows = Enumerable.Range(0, memtable.Rows).Where(memtable.IsVisible).ToArray();
        Array.Sort(rows, (a, b) => KeyOrder.Instance.Compare(memtable.Key(a), memtable.Key(b)));
        foreach (int row in rows)
        {
            yield return new StoredRow<TKey>(KeyCodecFor<TKey>.Decode(memtable.Key(row)), memtable.Code(row).ToArray(),
                memtable.Payload(row), memtable.Vector(row));
        }
    }

}
