using System.Numerics;
using System.Runtime.CompilerServices;
using HammingDB.Kernels;

namespace HammingDB.Index.Mih;

/// <summary>
/// Multi-index hashing over a block of codes: one <see cref="MihTable"/> per substring of
/// <see cref="Layout"/>, answering exact radius and k-nearest searches (the same results as a scan:
/// ordered by distance, then row).
/// </summary>
/// <remarks>
/// <para>Radius r = m*s + a (s = r / m, a = r % m): a code within r matches one of the first a + 1
/// substrings within s or one of the others within s - 1 (otherwise its distance would be at least
/// (a + 1)(s + 1) + (m - a - 1)s = r + 1). Each substring is probed at its radius, every candidate
/// verified on the full code. That is one allocation of the generalised rule (any thresholds t_j with
/// sum(t_j + 1) = r + 1); with <see cref="MihThresholds.Adaptive"/> each query takes the allocation
/// that reads least given its own bucket sizes, and with <see cref="MihThresholds.Auto"/> (the default)
/// it does so where the pigeonhole rule's buckets are crowded.</para>
/// <para>Deduplication needs no per-query state of size N: a row that passes the distance filter is
/// reported only by the first table, in probe order, whose substring lies within that table's
/// threshold of the query (the canonical slot), which is computed from the row's code.</para>
/// <para>k-nearest grows rings s = 0, 1, ...: at ring s table j yields the rows whose substring j is at
/// distance exactly s. A row is evaluated at its first slot (smallest (d_j, j)). After table j at
/// ring s, every row not yet evaluated has distance at least m*s + j + 1, so the search stops when
/// it holds k rows and the k-th distance is below that bound, when the caller's bound is below it,
/// or when a ring passes a substring's width (then every row was evaluated).</para>
/// <para>Codes of one word are verified from the postings against the running threshold: a bucket of
/// 48 postings or more by the kernels' vector scan (the same kernels as the exhaustive scan), a
/// smaller one posting by posting; wider codes are read from the block at their row. When a table of
/// wider codes carries filter words (<see cref="MihPostingWords.FilterWords"/>), a posting is read
/// from the block only when its lower bound, the substring distance t of its bucket (a lower bound
/// when the table filters bits; s itself at kNN ring s, where a row of another substring distance is
/// skipped anyway) plus popcount(filter ^ query's filter), is within the running threshold; the
/// filter words of a bucket of 48 or more postings are compared by the kernels' vector scan too.</para>
/// The block (and mapped tables) must stay alive and unchanged while the index is used.
/// </remarks>
public sealed partial class MihIndex
{
    private readonly CodeBlock _codes;
    private readonly MihTable[] _tables;
    private readonly ulong[] _masks; // per table, the substring's bits, for codes of one word
    private readonly bool _inline;

    private readonly bool _filters; // some table carries filter words

    // Buckets of at least this many inline postings (or filter words) are compared by the kernels' vector scan; smaller ones one by one.
    private const int KernelPostings = 48;

    // Filter words are scanned as 64-bit codes.
    private static readonly CodeLayout FilterLayout = new(64);

    /// <summary>Builds the tables over <paramref name="codes"/> with the layout <see cref="MihLayout.Choose"/> picks for its size.</summary>
    public MihIndex(CodeBlock codes)
        : this(codes, MihLayout.Choose(codes.Layout.CodeBits, codes.Count))
    {
    }

    /// <summary>Builds the tables over <paramref name="codes"/> (rows 0 .. N-1) split as <paramref name="layout"/> says, without filter words.</summary>
    public MihIndex(CodeBlock codes, MihLayout layout)
        : this(codes, layout, filterWords: false)
    {
    }

    /// <summary>
    /// Builds the tables over <paramref name="codes"/> (rows 0 .. N-1) split as <paramref name="layout"/> says; for codes
    /// over 64 bits with <paramref name="filterWords"/>, each posting carries its filter word (<see cref="MihPostingWords.FilterWords"/>).
    /// </summary>
    public MihIndex(CodeBlock codes, MihLayout layout, bool filterWords)
        : this(codes, Build(codes, layout, filterWords))
    {
    }

    /// <summary>
    /// An index over <paramref name="codes"/> from tables built before (e.g. mapped from a segment):
    /// they must cover the code as a <see cref="MihLayout.Split"/> does, each over every row.
    /// </summary>
    /// <exception cref="ArgumentException">The tables do not form a layout of these codes.</exception>
    public MihIndex(CodeBlock codes, IReadOnlyList<MihTable> tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        if (tables.Count == 0)
        {
            throw new ArgumentException("An index needs at least one table.", nameof(tables));
        }
        int maxDirect = MihLayout.DefaultMaxDirectBits;
        foreach (MihTable table in tables)
        {
            if (table.FilteredBits > 0)
            {
                maxDirect = table.DirectBits;
            }
        }
        if (tables.Count > codes.Layout.CodeBits)
        {
            throw new ArgumentException($"{tables.Count} tables cannot split {codes.Layout.CodeBits}-bit codes.", nameof(tables));
        }
        MihLayout layout = MihLayout.Split(codes.Layout.CodeBits, tables.Count, maxDirect);
        bool inline = codes.Layout.WordsPerCode == 1;
        for (int i = 0; i < tables.Count; i++)
        {
            MihTable table = tables[i];
            if (table.Start != layout.Start(i) || table.Bits != layout.Bits(i) || table.DirectBits != layout.DirectBits(i)
                || table.Count != codes.Count || table.HasInlineCodes != inline || (inline && table.HasFilterWords))
            {
                throw new ArgumentException(
                    $"Table {i} (bits [{table.Start}, {table.Start + table.Bits}), {table.DirectBits} direct, {table.Count} rows, posting words {table.PostingWords}) " +
                    $"is not substring {i} of {layout} over {codes.Count} rows.", nameof(tables));
            }
        }
        _codes = codes;
        Layout = layout;
        _tables = [.. tables];
        _inline = inline;
        _filters = tables.Any(t => t.HasFilterWords);
        _masks = new ulong[layout.Count];
        for (int i = 0; i < layout.Count && inline; i++)
        {
            _masks[i] = MihBits.Mask(layout.Start(i), layout.Bits(i));
        }
    }

    /// <summary>How the codes are split.</summary>
    public MihLayout Layout { get; }

    /// <summary>How many rows the index holds.</summary>
    public int Count => _codes.Count;

    /// <summary>The tables, one per substring.</summary>
    public IReadOnlyList<MihTable> Tables => _tables;

    /// <summary>The bytes of every table (beyond the codes themselves).</summary>
    public long Bytes => _tables.Sum(t => t.Bytes);

    private static MihTable[] Build(CodeBlock codes, MihLayout layout, bool filterWords)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (layout.CodeBits != codes.Layout.CodeBits)
        {
            throw new ArgumentException($"The layout splits {layout.CodeBits}-bit codes; the block holds {codes.Layout.CodeBits}-bit codes.", nameof(layout));
        }
        var tables = new MihTable[layout.Count];
        for (int i = 0; i < layout.Count; i++)
        {
            tables[i] = MihTable.Build(codes, layout, i, filterWords);
        }
        return tables;
    }

    /// <summary>Every row within <paramref name="radius"/> of <paramref name="query"/>, ordered by distance, then row.</summary>
    public Neighbor[] Radius(ReadOnlySpan<ulong> query, int radius)
    {
        var sink = new ListSink(new List<Neighbor>());
        Radius(query, radius, ref sink);
        sink.Results.Sort();
        return [.. sink.Results];
    }

    /// <summary>Sends every row within <paramref name="radius"/> of <paramref name="query"/> to <paramref name="sink"/>, once each, in no particular order.</summary>
    public void Radius<TSink>(ReadOnlySpan<ulong> query, int radius, ref TSink sink)
        where TSink : struct, IMihRadiusSink
    {
        var counters = default(MihCounters);
        Radius(query, radius, ref sink, ref counters);
    }

    /// <summary>
    /// The probes and postings a radius search of <paramref name="query"/> would read. When the pigeonhole
    /// rule's probes are more than <paramref name="maxProbes"/>, its probes and the average bucket times
    /// them (<see cref="MihEstimate.Exact"/> false); otherwise the exact reads of the thresholds the search
    /// will use (<see cref="Thresholds"/>), counted from the buckets' sizes.
    /// </summary>
    public MihEstimate EstimateRadius(ReadOnlySpan<ulong> query, int radius, long maxProbes = long.MaxValue)
    {
        _codes.Layout.Validate(query, nameof(query));
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        (_, int s, int a) = Split(radius);
        long probes = 0;
        double average = 0;
        for (int j = 0; j < _tables.Length; j++)
        {
            int rj = j <= a ? s : s - 1;
            long tableProbes = BallSize(_tables[j].DirectBits, rj);
            probes += tableProbes;
            average += tableProbes * ((double)_codes.Count / (1L << _tables[j].DirectBits));
        }
        if (probes > maxProbes || _codes.Count == 0)
        {
            return new MihEstimate(probes, (long)Math.Ceiling(average), _codes.Count == 0);
        }
        AllocateThresholds(query, Math.Min(radius, _codes.Layout.CodeBits), out MihEstimate allocated);
        if (allocated.Exact)
        {
            return allocated;
        }
        long postings = 0;
        for (int j = 0; j < _tables.Length; j++)
        {
            int rj = j <= a ? s : s - 1;
            MihTable table = _tables[j];
            ReadOnlySpan<int> offsets = table.Offsets;
            uint home = (uint)table.BucketOf(query);
            for (int t = 0; t <= Math.Min(rj, table.DirectBits); t++)
            {
                foreach (uint flips in new Combinations(table.DirectBits, t))
                {
                    int bucket = (int)(home ^ flips);
                    postings += offsets[bucket + 1] - offsets[bucket];
                }
            }
        }
        return new MihEstimate(probes, postings, true);
    }

    /// <summary>
    /// Sends every row within <paramref name="radius"/> of <paramref name="query"/> to <paramref name="sink"/>,
    /// once each, in no particular order, adding the buckets probed and postings read to <paramref name="counters"/>.
    /// </summary>
    public void Radius<TSink>(ReadOnlySpan<ulong> query, int radius, ref TSink sink, ref MihCounters counters)
        where TSink : struct, IMihRadiusSink => Radius(query, radius, ref sink, ref counters, long.MaxValue);

    /// <summary>
    /// As <see cref="Radius{TSink}(ReadOnlySpan{ulong}, int, ref TSink, ref MihCounters)"/>, but gives up (returns false,
    /// having sent only some rows) before probing a bucket once more than <paramref name="maxPostings"/> postings were read.
    /// </summary>
    public bool Radius<TSink>(ReadOnlySpan<ulong> query, int radius, ref TSink sink, ref MihCounters counters, long maxPostings)
        where TSink : struct, IMihRadiusSink
    {
        _codes.Layout.Validate(query, nameof(query));
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        if (_codes.Count == 0)
        {
            return true;
        }
        long budgetEnd = counters.Postings > long.MaxValue - maxPostings ? long.MaxValue : counters.Postings + maxPostings;
        int r = Math.Min(radius, _codes.Layout.CodeBits);
        int[] thresholds = AllocateThresholds(query, r, out _);
        ulong[]? queryCopy = _filters ? query.ToArray() : null; // for the kernels' sinks, which cannot hold a span
        Span<int> chunk = stackalloc int[ProbeChunk]; // the buckets of a ball, a chunk at a time, so that they can be prefetched ahead
        for (int j = 0; j < _tables.Length; j++)
        {
            int rj = thresholds[j];
            if (rj < 0)
            {
                continue;
            }
            MihTable table = _tables[j];
            uint home = (uint)table.BucketOf(query);
            ulong queryFilter = table.HasFilterWords ? MihTable.FilterWordOf(query, _codes.Layout.CodeBits, table.Start, table.Bits) : 0;
            for (int t = 0; t <= Math.Min(rj, table.DirectBits); t++)
            {
                // The filtered bits can take the substring past rj only when rj - t < their count.
                bool check = table.FilteredBits > rj - t;
                foreach (ReadOnlySpan<int> buckets in new BucketChunks(chunk, home, table.DirectBits, t, t))
                {
                    if (!RadiusBuckets(buckets, query, queryCopy, queryFilter, table, t, j, rj, check, r, thresholds, ref sink, ref counters, budgetEnd))
                    {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    // The buckets at t flips of table j probed within rj: each bucket's offsets are prefetched OffsetsAhead buckets ahead and its
    // first postings PostingsAhead ahead, so that successive probes' cache misses overlap. False when the budget ran out.
    private bool RadiusBuckets<TSink>(ReadOnlySpan<int> buckets, ReadOnlySpan<ulong> query, ulong[]? queryCopy, ulong queryFilter, MihTable table, int t, int j, int rj,
        bool check, int r, int[] thresholds, ref TSink sink, ref MihCounters counters, long budgetEnd)
        where TSink : struct, IMihRadiusSink
    {
        ReadOnlySpan<int> offsets = table.Offsets;
        ReadOnlySpan<int> rows = table.Rows;
        ReadOnlySpan<ulong> codes = table.InlineCodes;
        for (int i = 0; i < buckets.Length; i++)
        {
            PrefetchAhead(table, buckets, i);
            int bucket = buckets[i];
            int begin = offsets[bucket];
            int end = offsets[bucket + 1];
            if (counters.Postings > budgetEnd)
            {
                return false;
            }
            counters.Probes++;
            counters.Postings += end - begin;
            if (_inline)
            {
                RadiusInline(query, table, codes, begin, end, j, rj, check, r, thresholds, ref sink);
            }
            else if (table.HasFilterWords)
            {
                RadiusFiltered(queryCopy!, queryFilter, table, begin, end, t, j, rj, check, r, thresholds, ref sink);
            }
            else
            {
                RadiusWide(query, rows, begin, end, j, rj, check, r, thresholds, ref sink);
            }
        }
        return true;
    }

    // Buckets are probed a chunk at a time so that they can be prefetched: a bucket's offsets OffsetsAhead buckets ahead, its
    // first postings (the inline code or filter word a verification reads first, else the row) PostingsAhead buckets ahead,
    // when its offsets are in cache. Measured on u64-10m kNN10 (in memory): 0.50 ms against 0.62 ms without.
    private const int ProbeChunk = 64;
    private const int OffsetsAhead = 16;
    private const int PostingsAhead = 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchAhead(MihTable table, ReadOnlySpan<int> buckets, int i)
    {
        ReadOnlySpan<int> offsets = table.Offsets;
        if (i + OffsetsAhead < buckets.Length)
        {
            Prefetch.Line(in offsets[buckets[i + OffsetsAhead]]);
        }
        if (i + PostingsAhead < buckets.Length)
        {
            int ahead = offsets[buckets[i + PostingsAhead]];
            ReadOnlySpan<ulong> words = _inline ? table.InlineCodes : table.FilterWords;
            if (ahead < words.Length)
            {
                Prefetch.Line(in words[ahead]);
            }
            else if (ahead < table.Rows.Length)
            {
                Prefetch.Line(in table.Rows[ahead]);
            }
        }
    }

    private (int R, int S, int A) Split(int radius)
    {
        int r = Math.Min(radius, _codes.Layout.CodeBits);
        return (r, r / _tables.Length, r % _tables.Length);
    }

    private void RadiusInline<TSink>(ReadOnlySpan<ulong> query, MihTable table, ReadOnlySpan<ulong> codes, int begin, int end, int j, int rj, bool check, int r, int[] thresholds, ref TSink sink)
        where TSink : struct, IMihRadiusSink
    {
        ulong q = query[0];
        if (end - begin >= KernelPostings)
        {
            var within = new InlineRadiusSink<TSink>(this, table, begin, q, j, rj, check, r, thresholds, sink);
            ExhaustiveSearch.Scan(codes[begin..end], _codes.Layout, query, ref within);
            sink = within.Sink;
            return;
        }
        for (int p = begin; p < end; p++)
        {
            if (BitOperations.PopCount(q ^ codes[p]) <= r)
            {
                AcceptInline(q, table, p, j, rj, check, thresholds, ref sink);
            }
        }
    }

    private void AcceptInline<TSink>(ulong q, MihTable table, int p, int j, int rj, bool check, int[] thresholds, ref TSink sink)
        where TSink : struct, IMihRadiusSink
    {
        ulong x = q ^ table.InlineCodes[p];
        if (check && BitOperations.PopCount(x & _masks[j]) > rj)
        {
            return;
        }
        for (int i = 0; i < j; i++)
        {
            if (BitOperations.PopCount(x & _masks[i]) <= thresholds[i])
            {
                return; // an earlier table reports it
            }
        }
        sink.Accept(table.Rows[p], BitOperations.PopCount(x));
    }

    // The kernels' scan of a bucket's inline codes hands over the postings within the radius.
    private struct InlineRadiusSink<TSink>(MihIndex index, MihTable table, int begin, ulong q, int j, int rj, bool check, int r, int[] thresholds, TSink sink) : IScanSink
        where TSink : struct, IMihRadiusSink
    {
        public TSink Sink = sink;

        public readonly int Limit => r;

        public void Accept(int row, int distance) => index.AcceptInline(q, table, begin + row, j, rj, check, thresholds, ref Sink);
    }

    private void RadiusWide<TSink>(ReadOnlySpan<ulong> query, ReadOnlySpan<int> rows, int begin, int end, int j, int rj, bool check, int r, int[] thresholds, ref TSink sink)
        where TSink : struct, IMihRadiusSink
    {
        for (int p = begin; p < end; p++)
        {
            VerifyWide(query, rows[p], j, rj, check, r, thresholds, ref sink);
        }
    }

    // A bucket at t flips of a table with filter words: a posting's code is read only when t + the filter distance is within r.
    private void RadiusFiltered<TSink>(ulong[] query, ulong queryFilter, MihTable table, int begin, int end, int t, int j, int rj, bool check, int r, int[] thresholds, ref TSink sink)
        where TSink : struct, IMihRadiusSink
    {
        int slack = r - t; // the filter distance a posting may have (t <= rj <= r)
        ReadOnlySpan<ulong> filters = table.FilterWords;
        if (end - begin >= KernelPostings)
        {
            var within = new FilterRadiusSink<TSink>(this, query, table, begin, j, rj, check, r, thresholds, slack, sink);
            ExhaustiveSearch.Scan(filters[begin..end], FilterLayout, new ReadOnlySpan<ulong>(in queryFilter), ref within);
            sink = within.Sink;
            return;
        }
        ReadOnlySpan<int> rows = table.Rows;
        for (int p = begin; p < end; p++)
        {
            if (BitOperations.PopCount(filters[p] ^ queryFilter) <= slack)
            {
                VerifyWide(query, rows[p], j, rj, check, r, thresholds, ref sink);
            }
        }
    }

    // The kernels' scan of a bucket's filter words hands over the postings whose bound is within the radius.
    private struct FilterRadiusSink<TSink>(MihIndex index, ulong[] query, MihTable table, int begin, int j, int rj, bool check, int r, int[] thresholds, int slack, TSink sink) : IScanSink
        where TSink : struct, IMihRadiusSink
    {
        public TSink Sink = sink;

        public readonly int Limit => slack;

        public void Accept(int row, int distance) => index.VerifyWide(query, table.Rows[begin + row], j, rj, check, r, thresholds, ref Sink);
    }

    // Reads row's code: reports it when it lies within r and table j is its canonical slot.
    private void VerifyWide<TSink>(ReadOnlySpan<ulong> query, int row, int j, int rj, bool check, int r, int[] thresholds, ref TSink sink)
        where TSink : struct, IMihRadiusSink
    {
        MihTable table = _tables[j];
        ReadOnlySpan<ulong> code = _codes[row];
        if (check && MihBits.RangeDistance(query, code, table.Start, table.Bits) > rj)
        {
            return;
        }
        int distance = MihBits.Distance(query, code);
        if (distance > r)
        {
            return;
        }
        for (int i = 0; i < j; i++)
        {
            if (MihBits.RangeDistance(query, code, _tables[i].Start, _tables[i].Bits) <= thresholds[i])
            {
                return; // an earlier table reports it
            }
        }
        sink.Accept(row, distance);
    }

    private static readonly long[,] Binomials = BuildBinomials();

    private static long[,] BuildBinomials()
    {
        var c = new long[65, 65];
        for (int n = 0; n <= 64; n++)
        {
            c[n, 0] = 1;
            for (int t = 1; t <= n; t++)
            {
                c[n, t] = c[n - 1, t - 1] + (t <= n - 1 ? c[n - 1, t] : 0);
            }
        }
        return c;
    }

    private static long Binomial(int n, int t) => t < 0 || t > n ? 0 : Binomials[n, t];

    /// <summary>The number of values within <paramref name="radius"/> bits of one value of <paramref name="bits"/> bits (0 for a negative radius).</summary>
    internal static long BallSize(int bits, int radius)
    {
        long sum = 0;
        for (int t = 0; t <= Math.Min(radius, bits); t++)
        {
            sum += Binomial(bits, t);
        }
        return sum;
    }

    /// <summary>Every <paramref name="bits"/>-bit mask with <paramref name="ones"/> bits set, ascending (Gosper's hack).</summary>
    private readonly struct Combinations(int bits, int ones)
    {
        public Enumerator GetEnumerator() => new(bits, ones);

        public struct Enumerator(int bits, int ones)
        {
            private readonly uint _limit = 1u << bits;
            private uint _current;
            private bool _started;

            public readonly uint Current => _current;

            public bool MoveNext()
            {
                if (!_started)
                {
                    _started = true;
                    _current = ones == 0 ? 0u : (1u << ones) - 1;
                    return ones <= bits;
                }
                if (_current == 0)
                {
                    return false;
                }
                uint lowest = _current & (0u - _current);
                uint ripple = _current + lowest;
                _current = (((ripple ^ _current) >> 2) / lowest) | ripple;
                return _current < _limit;
            }
        }
    }

    /// <summary>
    /// The buckets at tMin..tMax flips of the direct bits from home, a chunk (the buffer's length) at a time, so that a
    /// chunk's buckets can be prefetched ahead of their probes.
    /// </summary>
    private ref struct BucketChunks(Span<int> buffer, uint home, int bits, int tMin, int tMax)
    {
        private readonly Span<int> _buffer = buffer;
        private int _t = tMin;
        private Combinations.Enumerator _flips = new(bits, tMin);
        private int _filled;

        public readonly BucketChunks GetEnumerator() => this;

        public readonly ReadOnlySpan<int> Current => _buffer[.._filled];

        public bool MoveNext()
        {
            _filled = 0;
            while (_filled < _buffer.Length && _t <= tMax)
            {
                if (_flips.MoveNext())
                {
                    _buffer[_filled++] = (int)(home ^ _flips.Current);
                }
                else if (++_t <= tMax)
                {
                    _flips = new Combinations.Enumerator(bits, _t);
                }
            }
            return _filled > 0;
        }
    }

    private readonly struct ListSink(List<Neighbor> results) : IMihRadiusSink
    {
        public List<Neighbor> Results { get; } = results;

        public void Accept(int row, int distance) => Results.Add(new Neighbor(row, distance));
    }

    /// <summary>The k smallest (distance, row) pairs seen, the largest on top.</summary>
    private struct WorstFirstHeap(int capacity)
    {
        private readonly int[] _distances = new int[capacity];
        private readonly int[] _rows = new int[capacity];
        private int _count;

        public readonly bool Full => _count == _distances.Length;

        public readonly int WorstDistance => _distances[0];

        /// <summary>Whether (distance, row) would enter: the heap is not full, or it beats the worst.</summary>
        public readonly bool Admits(int distance, int row) =>
            !Full || distance < _distances[0] || (distance == _distances[0] && row < _rows[0]);

        public void Add(int distance, int row)
        {
            if (!Full)
            {
                int i = _count++;
                while (i > 0)
                {
                    int parent = (i - 1) / 2;
                    if (!Worse(distance, row, _distances[parent], _rows[parent]))
                    {
                        break;
                    }
                    _distances[i] = _distances[parent];
                    _rows[i] = _rows[parent];
                    i = parent;
                }
                _distances[i] = distance;
                _rows[i] = row;
                return;
            }
            int at = 0;
            while (true)
            {
                int child = (2 * at) + 1;
                if (child >= _count)
                {
                    break;
                }
                if (child + 1 < _count && Worse(_distances[child + 1], _rows[child + 1], _distances[child], _rows[child]))
                {
                    child++;
                }
                if (!Worse(_distances[child], _rows[child], distance, row))
                {
                    break;
                }
                _distances[at] = _distances[child];
                _rows[at] = _rows[child];
                at = child;
            }
            _distances[at] = distance;
            _rows[at] = row;
        }

        public readonly Neighbor[] Sorted()
        {
            var result = new Neighbor[_count];
            for (int i = 0; i < _count; i++)
            {
                result[i] = new Neighbor(_rows[i], _distances[i]);
            }
            Array.Sort(result);
            return result;
        }

        private static bool Worse(int d1, int r1, int d2, int r2) => d1 > d2 || (d1 == d2 && r1 > r2);
    }
}
