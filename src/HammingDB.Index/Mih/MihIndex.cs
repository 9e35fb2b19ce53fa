using System.Numerics;
using HammingDB.Kernels;

namespace HammingDB.Index.Mih;

/// <summary>
/// Multi-index hashing over an in-memory block of codes: one <see cref="MihTable"/> per substring of
/// <see cref="Layout"/>, answering exact radius and k-nearest searches (the same results as a scan:
/// ordered by distance, then row).
/// </summary>
/// <remarks>
/// <para>Radius r = m*s + a (s = r / m, a = r % m): a code within r matches one of the first a + 1
/// substrings within s or one of the others within s - 1 (otherwise its distance would be at least
/// (a + 1)(s + 1) + (m - a - 1)s = r + 1). Each substring is probed at its radius, every candidate
/// verified on the full code.</para>
/// <para>Deduplication needs no per-query state of size N: a row that passes the distance filter is
/// reported only by the first table, in probe order, whose substring lies within that table's
/// radius of the query (the canonical slot), which is computed from the row's code.</para>
/// <para>k-nearest grows rings s = 0, 1, ...: at ring s table j yields the rows whose substring j is at
/// distance exactly s. A row is evaluated at its first slot (smallest (d_j, j)). After table j at
/// ring s, every row not yet evaluated has distance at least m*s + j + 1, so the search stops when
/// it holds k rows and the k-th distance is below that bound, or when one table has yielded every row.</para>
/// The block must stay alive and unchanged while the index is used.
/// </remarks>
public sealed class MihIndex
{
    private readonly CodeBlock _codes;
    private readonly MihTable[] _tables;
    private readonly ulong[] _masks; // per table, the substring's bits, for codes of one word

    /// <summary>Builds the tables over <paramref name="codes"/> with the layout <see cref="MihLayout.Choose"/> picks for its size.</summary>
    public MihIndex(CodeBlock codes)
        : this(codes, MihLayout.Choose(codes.Layout.CodeBits, codes.Count))
    {
    }

    /// <summary>Builds the tables over <paramref name="codes"/> (rows 0 .. N-1) split as <paramref name="layout"/> says.</summary>
    public MihIndex(CodeBlock codes, MihLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (layout.CodeBits != codes.Layout.CodeBits)
        {
            throw new ArgumentException($"The layout splits {layout.CodeBits}-bit codes; the block holds {codes.Layout.CodeBits}-bit codes.", nameof(layout));
        }
        _codes = codes;
        Layout = layout;
        _tables = new MihTable[layout.Count];
        _masks = new ulong[layout.Count];
        for (int i = 0; i < layout.Count; i++)
        {
            _tables[i] = MihTable.Build(codes, layout, i);
            if (codes.Layout.WordsPerCode == 1)
            {
                _masks[i] = MihBits.Mask(layout.Start(i), layout.Bits(i));
            }
        }
    }

    /// <summary>How the codes are split.</summary>
    public MihLayout Layout { get; }

    /// <summary>How many rows the index holds.</summary>
    public int Count => _codes.Count;

    /// <summary>The tables, one per substring.</summary>
    public IReadOnlyList<MihTable> Tables => _tables;

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
        _codes.Layout.Validate(query, nameof(query));
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        if (_codes.Count == 0)
        {
            return;
        }
        int m = _tables.Length;
        int r = Math.Min(radius, _codes.Layout.CodeBits);
        int s = r / m;
        int a = r % m;
        for (int j = 0; j < m; j++)
        {
            int rj = j <= a ? s : s - 1;
            if (rj < 0)
            {
                continue;
            }
            MihTable table = _tables[j];
            int d = table.DirectBits;
            uint home = (uint)table.BucketOf(query);
            int tMax = Math.Min(rj, d);
            for (int t = 0; t <= tMax; t++)
            {
                // The filtered bits can take the substring past rj only when rj - t < their count.
                bool check = table.FilteredBits > rj - t;
                uint limit = 1u << d;
                for (uint flips = t == 0 ? 0u : (1u << t) - 1; flips < limit; flips = NextCombination(flips))
                {
                    ProbeRadius(query, table, j, (int)(home ^ flips), rj, check, r, s, a, ref sink);
                    if (flips == 0)
                    {
                        break;
                    }
                }
            }
        }
    }

    private void ProbeRadius<TSink>(ReadOnlySpan<ulong> query, MihTable table, int j, int bucket, int rj, bool check, int r, int s, int a, ref TSink sink)
        where TSink : struct, IMihRadiusSink
    {
        ReadOnlySpan<int> offsets = table.Offsets;
        ReadOnlySpan<int> rows = table.Rows;
        int begin = offsets[bucket];
        int end = offsets[bucket + 1];
        if (table.HasInlineCodes)
        {
            ReadOnlySpan<ulong> codes = table.InlineCodes;
            ulong q = query[0];
            for (int p = begin; p < end; p++)
            {
                ulong x = q ^ codes[p];
                if (check && BitOperations.PopCount(x & _masks[j]) > rj)
                {
                    continue;
                }
                int distance = BitOperations.PopCount(x);
                if (distance > r)
                {
                    continue;
                }
                bool canonical = true;
                for (int i = 0; i < j; i++)
                {
                    if (BitOperations.PopCount(x & _masks[i]) <= (i <= a ? s : s - 1))
                    {
                        canonical = false;
                        break;
                    }
                }
                if (canonical)
                {
                    sink.Accept(rows[p], distance);
                }
            }
            return;
        }
        for (int p = begin; p < end; p++)
        {
            int row = rows[p];
            ReadOnlySpan<ulong> code = _codes[row];
            if (check && MihBits.RangeDistance(query, code, table.Start, table.Bits) > rj)
            {
                continue;
            }
            int distance = MihBits.Distance(query, code);
            if (distance > r)
            {
                continue;
            }
            bool canonical = true;
            for (int i = 0; i < j; i++)
            {
                if (MihBits.RangeDistance(query, code, _tables[i].Start, _tables[i].Bits) <= (i <= a ? s : s - 1))
                {
                    canonical = false;
                    break;
                }
            }
            if (canonical)
            {
                sink.Accept(row, distance);
            }
        }
    }

    /// <summary>The <paramref name="k"/> nearest rows to <paramref name="query"/>, ordered by distance, then row (all rows when k &gt;= N).</summary>
    public Neighbor[] Knn(ReadOnlySpan<ulong> query, int k) => Knn(query, k, default(KeepAllRows));

    /// <summary>The <paramref name="k"/> nearest rows to <paramref name="query"/> that <paramref name="filter"/> keeps, ordered by distance, then row.</summary>
    public Neighbor[] Knn<TFilter>(ReadOnlySpan<ulong> query, int k, TFilter filter)
        where TFilter : struct, IRowFilter
    {
        _codes.Layout.Validate(query, nameof(query));
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        int n = _codes.Count;
        k = Math.Min(k, n);
        if (k == 0)
        {
            return [];
        }
        var heap = new WorstFirstHeap(k);
        int m = _tables.Length;
        int[] yielded = new int[m]; // rows each table has yielded so far: N means every row was evaluated
        int maxBits = 0;
        foreach (MihTable table in _tables)
        {
            maxBits = Math.Max(maxBits, table.Bits);
        }
        for (int s = 0; s <= maxBits; s++)
        {
            for (int j = 0; j < m; j++)
            {
                MihTable table = _tables[j];
                int d = table.DirectBits;
                uint home = (uint)table.BucketOf(query);
                int tMin = Math.Max(0, s - table.FilteredBits);
                int tMax = Math.Min(s, d);
                uint limit = 1u << d;
                for (int t = tMin; t <= tMax; t++)
                {
                    for (uint flips = t == 0 ? 0u : (1u << t) - 1; flips < limit; flips = NextCombination(flips))
                    {
                        yielded[j] += ProbeRing(query, table, j, (int)(home ^ flips), s, t, ref heap, filter);
                        if (flips == 0)
                        {
                            break;
                        }
                    }
                }
                if (yielded[j] == n || (heap.Full && heap.WorstDistance < s * m + j + 1))
                {
                    return heap.Sorted();
                }
            }
        }
        return heap.Sorted();
    }

    /// <summary>Evaluates the rows of <paramref name="bucket"/> whose substring j is at distance exactly <paramref name="s"/>; returns how many there were.</summary>
    private int ProbeRing<TFilter>(ReadOnlySpan<ulong> query, MihTable table, int j, int bucket, int s, int t, ref WorstFirstHeap heap, TFilter filter)
        where TFilter : struct, IRowFilter
    {
        ReadOnlySpan<int> offsets = table.Offsets;
        ReadOnlySpan<int> rows = table.Rows;
        int begin = offsets[bucket];
        int end = offsets[bucket + 1];
        bool exact = table.FilteredBits == 0; // then every posting is at distance t
        if (exact && t != s)
        {
            return 0;
        }
        int yielded = 0;
        int m = _tables.Length;
        if (table.HasInlineCodes)
        {
            ReadOnlySpan<ulong> codes = table.InlineCodes;
            ulong q = query[0];
            for (int p = begin; p < end; p++)
            {
                ulong x = q ^ codes[p];
                if (!exact && BitOperations.PopCount(x & _masks[j]) != s)
                {
                    continue;
                }
                yielded++;
                int distance = BitOperations.PopCount(x);
                int row = rows[p];
                if (!heap.Admits(distance, row) || !filter.Keep(row))
                {
                    continue;
                }
                bool canonical = true;
                for (int i = 0; i < m; i++)
                {
                    // An earlier slot (d_i, i) < (s, j) has evaluated the row already.
                    int di = BitOperations.PopCount(x & _masks[i]);
                    if (di < s || (di == s && i < j))
                    {
                        canonical = false;
                        break;
                    }
                }
                if (canonical)
                {
                    heap.Add(distance, row);
                }
            }
            return yielded;
        }
        for (int p = begin; p < end; p++)
        {
            int row = rows[p];
            ReadOnlySpan<ulong> code = _codes[row];
            if (!exact && MihBits.RangeDistance(query, code, table.Start, table.Bits) != s)
            {
                continue;
            }
            yielded++;
            int distance = MihBits.Distance(query, code);
            if (!heap.Admits(distance, row) || !filter.Keep(row))
            {
                continue;
            }
            bool canonical = true;
            for (int i = 0; i < m; i++)
            {
                if (i == j)
                {
                    continue;
                }
                int di = MihBits.RangeDistance(query, code, _tables[i].Start, _tables[i].Bits);
                if (di < s || (di == s && i < j))
                {
                    canonical = false;
                    break;
                }
            }
            if (canonical)
            {
                heap.Add(distance, row);
            }
        }
        return yielded;
    }

    /// <summary>The next integer with the same number of set bits (Gosper's hack); <paramref name="mask"/> must be non-zero.</summary>
    private static uint NextCombination(uint mask)
    {
        uint lowest = mask & (0u - mask);
        uint ripple = mask + lowest;
        return (((ripple ^ mask) >> 2) / lowest) | ripple;
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
