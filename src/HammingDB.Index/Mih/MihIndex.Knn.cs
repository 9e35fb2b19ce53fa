using System.Numerics;
using HammingDB.Kernels;

namespace HammingDB.Index.Mih;

/// <summary>Exact k-nearest search by growing rings of substring distance (see the class remarks).</summary>
public sealed partial class MihIndex
{
    /// <summary>The <paramref name="k"/> nearest rows to <paramref name="query"/>, ordered by distance, then row (all rows when k &gt;= N).</summary>
    public Neighbor[] Knn(ReadOnlySpan<ulong> query, int k) => Knn(query, k, default(KeepAllRows));

    /// <summary>The <paramref name="k"/> nearest rows to <paramref name="query"/> that <paramref name="filter"/> keeps, ordered by distance, then row.</summary>
    public Neighbor[] Knn<TFilter>(ReadOnlySpan<ulong> query, int k, TFilter filter)
        where TFilter : struct, IRowFilter
    {
        var governor = default(UnlimitedKnn);
        var counters = default(MihCounters);
        return Knn(query, k, filter, int.MaxValue, ref governor, ref counters).Neighbors;
    }

    /// <summary>
    /// The <paramref name="k"/> nearest rows to <paramref name="query"/> that <paramref name="filter"/> keeps and
    /// whose distance is at most <paramref name="bound"/>, ordered by distance, then row. Before each step
    /// (a ring of one table) <paramref name="governor"/> may abandon the search (the result says so, and
    /// holds what was found so far, which is not the answer). Counts go to <paramref name="counters"/>.
    /// </summary>
    public MihKnnResult Knn<TFilter, TGovernor>(ReadOnlySpan<ulong> query, int k, TFilter filter, int bound, ref TGovernor governor, ref MihCounters counters)
        where TFilter : struct, IRowFilter
        where TGovernor : struct, IMihKnnGovernor
    {
        _codes.Layout.Validate(query, nameof(query));
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfNegative(bound);
        int n = _codes.Count;
        k = Math.Min(k, n);
        if (k == 0)
        {
            return new MihKnnResult([], false);
        }
        var run = new KnnRun(k, bound);
        int m = _tables.Length;
        ulong[]? queryCopy = _filters ? query.ToArray() : null; // for the kernels' sinks, which cannot hold a span
        int minBits = _tables.Min(t => t.Bits);
        Span<int> chunk = stackalloc int[ProbeChunk]; // the buckets of a ring, a chunk at a time, so that they can be prefetched ahead
        for (int s = 0; s <= minBits; s++)
        {
            for (int j = 0; j < m; j++)
            {
                MihTable table = _tables[j];
                int d = table.DirectBits;
                int tMin = Math.Max(0, s - table.FilteredBits);
                int tMax = Math.Min(s, d);
                long stepProbes = 0;
                for (int t = tMin; t <= tMax; t++)
                {
                    stepProbes += Binomial(d, t);
                }
                var step = new MihKnnStep(s, j, stepProbes, stepProbes * ((double)n / (1L << d)), run.Heap.Full ? run.Heap.WorstDistance : -1);
                if (!governor.Proceed(step, counters))
                {
                    return new MihKnnResult(run.Heap.Sorted(), true);
                }
                counters.Rings++;
                uint home = (uint)table.BucketOf(query);
                ulong queryFilter = table.HasFilterWords ? MihTable.FilterWordOf(query, _codes.Layout.CodeBits, table.Start, table.Bits) : 0;
                foreach (ReadOnlySpan<int> buckets in new BucketChunks(chunk, home, d, tMin, tMax))
                {
                    RingBuckets(buckets, table, query, queryCopy, queryFilter, j, s, run, filter, ref counters);
                }
                int certified = (m * s) + j + 1; // every row not yet evaluated is at least this far
                if ((run.Heap.Full && run.Heap.WorstDistance < certified) || bound < certified)
                {
                    return new MihKnnResult(run.Heap.Sorted(), false);
                }
            }
        }
        return new MihKnnResult(run.Heap.Sorted(), false);
    }

    // Ring s of table j over the given buckets: every posting of them whose row has its first slot here is offered to the run.
    private void RingBuckets<TFilter>(ReadOnlySpan<int> buckets, MihTable table, ReadOnlySpan<ulong> query, ulong[]? queryCopy, ulong queryFilter, int j, int s,
        KnnRun run, TFilter filter, ref MihCounters counters)
        where TFilter : struct, IRowFilter
    {
        ReadOnlySpan<int> offsets = table.Offsets;
        ReadOnlySpan<int> rows = table.Rows;
        ReadOnlySpan<ulong> codes = table.InlineCodes;
        bool exact = table.FilteredBits == 0; // then every posting of a bucket at t flips is at distance t
        for (int i = 0; i < buckets.Length; i++)
        {
            PrefetchAhead(table, buckets, i);
            int bucket = buckets[i];
            int begin = offsets[bucket];
            int end = offsets[bucket + 1];
            counters.Probes++;
            counters.Postings += end - begin;
            if (begin == end)
            {
                continue;
            }
            if (_inline && end - begin >= KernelPostings)
            {
                var sink = new InlineRingSink<TFilter>(this, run, table, begin, query[0], j, s, exact, filter);
                ExhaustiveSearch.Scan(codes[begin..end], _codes.Layout, query, ref sink);
            }
            else if (_inline)
            {
                ulong q = query[0];
                for (int p = begin; p < end; p++)
                {
                    if (BitOperations.PopCount(q ^ codes[p]) <= run.Limit)
                    {
                        OfferInline(q, table, p, j, s, exact, run, filter);
                    }
                }
            }
            else if (table.HasFilterWords)
            {
                RingFiltered(queryCopy!, queryFilter, table, begin, end, j, s, exact, run, filter);
            }
            else
            {
                RingWide(query, rows, begin, end, j, s, exact, run, filter);
            }
        }
    }

    /// <summary>A kNN search's state: the k best rows so far and the distance a row must not exceed to enter.</summary>
    private sealed class KnnRun(int k, int bound)
    {
        public WorstFirstHeap Heap = new(k);

        public int Bound { get; } = bound;

        public int Limit { get; private set; } = bound;

        public void Add(int distance, int row)
        {
            Heap.Add(distance, row);
            if (Heap.Full)
            {
                Limit = Math.Min(Heap.WorstDistance, Bound);
            }
        }
    }

    // The kernels' scan of a bucket's inline codes hands over the postings within the running limit.
    private readonly struct InlineRingSink<TFilter>(MihIndex index, KnnRun run, MihTable table, int begin, ulong q, int j, int s, bool exact, TFilter filter) : IScanSink
        where TFilter : struct, IRowFilter
    {
        public int Limit => run.Limit;

        public void Accept(int row, int distance) => index.OfferInline(q, table, begin + row, j, s, exact, run, filter);
    }

    private void OfferInline<TFilter>(ulong q, MihTable table, int p, int j, int s, bool exact, KnnRun run, TFilter filter)
        where TFilter : struct, IRowFilter
    {
        ulong x = q ^ table.InlineCodes[p];
        if (!exact && BitOperations.PopCount(x & _masks[j]) != s)
        {
            return; // evaluated at another ring of this table
        }
        int distance = BitOperations.PopCount(x);
        int row = table.Rows[p];
        if (!run.Heap.Admits(distance, row) || !filter.Keep(row))
        {
            return;
        }
        for (int i = 0; i < _masks.Length; i++)
        {
            // An earlier slot (d_i, i) < (s, j) has evaluated the row already.
            int di = BitOperations.PopCount(x & _masks[i]);
            if (di < s || (di == s && i < j))
            {
                return;
            }
        }
        run.Add(distance, row);
    }

    private void RingWide<TFilter>(ReadOnlySpan<ulong> query, ReadOnlySpan<int> rows, int begin, int end, int j, int s, bool exact, KnnRun run, TFilter filter)
        where TFilter : struct, IRowFilter
    {
        for (int p = begin; p < end; p++)
        {
            OfferWide(query, rows[p], j, s, exact, run, filter);
        }
    }

    // A bucket of ring s of a table with filter words: a posting evaluated at this ring has substring distance s, so its
    // code is read only when s + the filter distance is within the running limit (a posting of another substring
    // distance is skipped by OfferWide anyway).
    private void RingFiltered<TFilter>(ulong[] query, ulong queryFilter, MihTable table, int begin, int end, int j, int s, bool exact, KnnRun run, TFilter filter)
        where TFilter : struct, IRowFilter
    {
        if (run.Limit < s)
        {
            return;
        }
        ReadOnlySpan<ulong> filters = table.FilterWords;
        if (end - begin >= KernelPostings)
        {
            var sink = new FilterRingSink<TFilter>(this, run, query, table, begin, j, s, exact, filter);
            ExhaustiveSearch.Scan(filters[begin..end], FilterLayout, new ReadOnlySpan<ulong>(in queryFilter), ref sink);
            return;
        }
        ReadOnlySpan<int> rows = table.Rows;
        for (int p = begin; p < end; p++)
        {
            if (s + BitOperations.PopCount(filters[p] ^ queryFilter) <= run.Limit)
            {
                OfferWide(query, rows[p], j, s, exact, run, filter);
            }
        }
    }

    // The kernels' scan of a bucket's filter words hands over the postings whose bound is within the running limit.
    private readonly struct FilterRingSink<TFilter>(MihIndex index, KnnRun run, ulong[] query, MihTable table, int begin, int j, int s, bool exact, TFilter filter) : IScanSink
        where TFilter : struct, IRowFilter
    {
        public int Limit => run.Limit - s;

        public void Accept(int row, int distance) => index.OfferWide(query, table.Rows[begin + row], j, s, exact, run, filter);
    }

    // Reads row's code: offers it to the heap when ring s of table j is its first slot.
    private void OfferWide<TFilter>(ReadOnlySpan<ulong> query, int row, int j, int s, bool exact, KnnRun run, TFilter filter)
        where TFilter : struct, IRowFilter
    {
        MihTable table = _tables[j];
        ReadOnlySpan<ulong> code = _codes[row];
        if (!exact && MihBits.RangeDistance(query, code, table.Start, table.Bits) != s)
        {
            return;
        }
        int distance = MihBits.Distance(query, code);
        if (distance > run.Limit || !run.Heap.Admits(distance, row) || !filter.Keep(row))
        {
            return;
        }
        for (int i = 0; i < _tables.Length; i++)
        {
            if (i == j)
            {
                continue;
            }
            int di = MihBits.RangeDistance(query, code, _tables[i].Start, _tables[i].Bits);
            if (di < s || (di == s && i < j))
            {
                return;
            }
        }
        run.Add(distance, row);
    }
}
