using System.Runtime.InteropServices;
using HammingDB.Kernels.Scan;

namespace HammingDB.Kernels;

/// <summary>
/// Exact search by scanning every code ("hash code ranking"): k nearest (ties broken by the
/// smaller id) and every code within a radius (distance &lt;= radius), for one query or a batch,
/// on one thread or several. A result's id is its row in the block.
/// </summary>
public static class ExhaustiveSearch
{
    // Below this many rows per part, a part costs more than it saves.
    private const int MinRowsPerPart = 1 << 14;


    // Thread ranges start on a multiple of this many rows (keeps 64-byte alignment for every width).
    private const int PartAlignment = 64;

    /// <summary>The <paramref name="k"/> codes nearest <paramref name="query"/>, nearest first.</summary>
    /// <returns>min(k, codes.Count) neighbours ordered by distance, then id.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is not positive.</exception>
    /// <exception cref="ArgumentException">The query is not one code of the block's layout.</exception>
    public static Neighbor[] Knn(CodeBlock codes, ReadOnlySpan<ulong> query, int k, SearchOptions? options = null)
    {
        options = Prepare(options, codes, k);
        codes.Layout.Validate(query, nameof(query));
        IsaLevel isa = Isa.Resolve(options.Isa);
        int parts = PartCount(codes.Count, options.Threads);
        if (parts == 1)
        {
            var collector = new TopKCollector(k, codes.Count, codes.Layout.CodeBits);
            var sink = new TopKSink(collector, 0);
            ScanDispatch.Scan(isa, codes, ref MemoryMarshal.GetReference(query), ref sink);
            return collector.ToSortedArray();
        }
        ulong[] queryCopy = query.ToArray();
        var collectors = new TopKCollector[parts];
        RunParts(parts, part =>
        {
            (int start, int count) = PartRange(codes.Count, parts, part);
            var collector = new TopKCollector(k, count, codes.Layout.CodeBits);
            var sink = new TopKSink(collector, start);
            ScanDispatch.Scan(isa, codes.Slice(start, count), ref queryCopy[0], ref sink);
            collectors[part] = collector;
        });
        return MergeNearest(collectors, k);
    }

    /// <summary>Every code within <paramref name="radius"/> of <paramref name="query"/>, ordered by distance, then id.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="radius"/> is negative.</exception>
    /// <exception cref="ArgumentException">The query is not one code of the block's layout.</exception>
    public static Neighbor[] Radius(CodeBlock codes, ReadOnlySpan<ulong> query, int radius, SearchOptions? options = null)
    {
        options = Prepare(options, codes, k: 1);
        ValidateRadius(radius);
        codes.Layout.Validate(query, nameof(query));
        IsaLevel isa = Isa.Resolve(options.Isa);
        int parts = PartCount(codes.Count, options.Threads);
        var collectors = new RadiusCollector[parts];
        if (parts == 1)
        {
            collectors[0] = new RadiusCollector();
            var sink = new RadiusSink(collectors[0], 0, radius);
            ScanDispatch.Scan(isa, codes, ref MemoryMarshal.GetReference(query), ref sink);
        }
        else
        {
            ulong[] queryCopy = query.ToArray();
            RunParts(parts, part =>
            {
                (int start, int count) = PartRange(codes.Count, parts, part);
                collectors[part] = new RadiusCollector();
                var sink = new RadiusSink(collectors[part], start, radius);
                ScanDispatch.Scan(isa, codes.Slice(start, count), ref queryCopy[0], ref sink);
            });
        }
        return RadiusCollector.MergeSorted(collectors, codes.Layout.CodeBits);
    }

    /// <summary>
    /// The k nearest codes for every query of <paramref name="queries"/>: result i belongs to
    /// query i. The codes are read in cache-sized tiles shared by all queries of a thread.
    /// </summary>
    public static Neighbor[][] KnnBatch(CodeBlock codes, CodeBlock queries, int k, SearchOptions? options = null)
    {
        options = Prepare(options, codes, k);
        ValidateQueries(codes, queries);
        IsaLevel isa = Isa.Resolve(options.Isa);
        var collectors = new TopKCollector[queries.Count];
        for (int j = 0; j < collectors.Length; j++)
        {
            collectors[j] = new TopKCollector(k, codes.Count, codes.Layout.CodeBits);
        }
        RunBatch(codes, queries, isa, options, (query, rowBase) => new TopKSink(collectors[query], rowBase));
        return Array.ConvertAll(collectors, c => c.ToSortedArray());
    }

    /// <summary>Every code within <paramref name="radius"/> of each query: result i belongs to query i.</summary>
    public static Neighbor[][] RadiusBatch(CodeBlock codes, CodeBlock queries, int radius, SearchOptions? options = null)
    {
        options = Prepare(options, codes, k: 1);
        ValidateRadius(radius);
        ValidateQueries(codes, queries);
        IsaLevel isa = Isa.Resolve(options.Isa);
        var collectors = new RadiusCollector[queries.Count];
        for (int j = 0; j < collectors.Length; j++)
        {
            collectors[j] = new RadiusCollector();
        }
        RunBatch(codes, queries, isa, options, (query, rowBase) => new RadiusSink(collectors[query], rowBase, radius));
        return Array.ConvertAll(collectors, c => RadiusCollector.MergeSorted([c], codes.Layout.CodeBits));
    }

    /// <inheritdoc cref="Knn(CodeBlock, ReadOnlySpan{ulong}, int, SearchOptions?)"/>
    public static Neighbor[] Knn(PackedCodes codes, ReadOnlySpan<ulong> query, int k, SearchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(codes);
        Neighbor[] result = Knn(codes.Block, query, k, options);
        GC.KeepAlive(codes);
        return result;
    }

    /// <inheritdoc cref="Radius(CodeBlock, ReadOnlySpan{ulong}, int, SearchOptions?)"/>
    public static Neighbor[] Radius(PackedCodes codes, ReadOnlySpan<ulong> query, int radius, SearchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(codes);
        Neighbor[] result = Radius(codes.Block, query, radius, options);
        GC.KeepAlive(codes);
        return result;
    }

    /// <inheritdoc cref="KnnBatch(CodeBlock, CodeBlock, int, SearchOptions?)"/>
    public static Neighbor[][] KnnBatch(PackedCodes codes, PackedCodes queries, int k, SearchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(codes);
        ArgumentNullException.ThrowIfNull(queries);
        Neighbor[][] result = KnnBatch(codes.Block, queries.Block, k, options);
        GC.KeepAlive(codes);
        GC.KeepAlive(queries);
        return result;
    }

    /// <inheritdoc cref="RadiusBatch(CodeBlock, CodeBlock, int, SearchOptions?)"/>
    public static Neighbor[][] RadiusBatch(PackedCodes codes, PackedCodes queries, int radius, SearchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(codes);
        ArgumentNullException.ThrowIfNull(queries);
        Neighbor[][] result = RadiusBatch(codes.Block, queries.Block, radius, options);
        GC.KeepAlive(codes);
        GC.KeepAlive(queries);
        return result;
    }

    /// <summary>
    /// Scans every code of <paramref name="codes"/> against <paramref name="query"/>, handing each
    /// row within the sink's limit to <paramref name="sink"/> (see <see cref="IScanSink"/>): the
    /// building block for collectors of other layers (keys, deletions, snapshots).
    /// </summary>
    /// <exception cref="ArgumentException">The query is not one code of the block's layout.</exception>
    public static void Scan<TSink>(CodeBlock codes, ReadOnlySpan<ulong> query, ref TSink sink, IsaLevel? isa = null)
        where TSink : struct, IScanSink
    {
        codes.Layout.Validate(query, nameof(query));
        ScanDispatch.Scan(Isa.Resolve(isa), codes, ref MemoryMarshal.GetReference(query), ref sink);
    }

    /// <summary>
    /// <see cref="Scan{TSink}(CodeBlock, ReadOnlySpan{ulong}, ref TSink, IsaLevel?)"/> over codes held in a span
    /// (<paramref name="words"/>: whole codes of <paramref name="layout"/>, e.g. the postings of a bucket).
    /// </summary>
    /// <exception cref="ArgumentException">The words are not whole codes, or the query is not one code of the layout.</exception>
    public static unsafe void Scan<TSink>(ReadOnlySpan<ulong> words, CodeLayout layout, ReadOnlySpan<ulong> query, ref TSink sink, IsaLevel? isa = null)
        where TSink : struct, IScanSink
    {
        int perCode = layout.WordsPerCode;
        if (words.Length % perCode != 0)
        {
            throw new ArgumentException($"{words.Length} words are not whole codes of {perCode} words.", nameof(words));
        }
        layout.Validate(query, nameof(query));
        fixed (ulong* pointer = words)
        {
            ScanDispatch.Scan(Isa.Resolve(isa), new CodeBlock(pointer, words.Length / perCode, layout), ref MemoryMarshal.GetReference(query), ref sink);
        }
    }

    /// <summary>Rows of codes per batch tile for <paramref name="tileBytes"/> (a multiple of 64, at least 64).</summary>
    internal static int TileRows(CodeLayout layout, int tileBytes) =>
        Math.Max(PartAlignment, tileBytes / layout.StrideBytes / PartAlignment * PartAlignment);

    internal static int PartCount(int rows, int threads) =>
        Math.Max(1, Math.Min(threads, rows / MinRowsPerPart));

    internal static (int Start, int Count) PartRange(int rows, int parts, int part)
    {
        int size = (int)(((long)rows + parts - 1) / parts);
        size = (size + PartAlignment - 1) / PartAlignment * PartAlignment;
        int start = (int)Math.Min(rows, (long)part * size);
        int end = (int)Math.Min(rows, (long)start + size);
        return (start, end - start);
    }

    private static SearchOptions Prepare(SearchOptions? options, CodeBlock codes, int k)
    {
        options ??= SearchOptions.Default;
        options.Validate();
        if (codes.Layout.CodeBits == 0)
        {
            throw new ArgumentException("The code block is uninitialised.", nameof(codes));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        return options;
    }

    private static void ValidateRadius(int radius) => ArgumentOutOfRangeException.ThrowIfNegative(radius);

    internal static void ValidateQueries(CodeBlock codes, CodeBlock queries)
    {
        if (queries.Layout != codes.Layout)
        {
            throw new ArgumentException(
                $"The queries are {queries.Layout.CodeBits}-bit codes but the block holds {codes.Layout.CodeBits}-bit codes.", nameof(queries));
        }
        for (int j = 0; j < queries.Count; j++)
        {
            queries.Layout.Validate(queries[j], $"{nameof(queries)}[{j}]");
        }
    }

    // One contiguous range per thread. Measured against alternatives in docs/benchmarks.md:
    // 4 parts per thread taken dynamically, and dedicated spinning workers, were no faster.
    private static void RunParts(int parts, Action<int> body) =>
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, body);

    private static void RunBatch<TSink>(CodeBlock codes, CodeBlock queries, IsaLevel isa, SearchOptions options, Func<int, long, TSink> sinkFor)
        where TSink : struct, IScanSink
    {
        int tileRows = TileRows(codes.Layout, options.TileBytes);
        int parts = Math.Max(1, Math.Min(options.Threads, queries.Count));
        void RunPart(int part)
        {
            (int first, int count) = SplitEvenly(queries.Count, parts, part);
            for (int tile = 0; tile < codes.Count; tile += tileRows)
            {
                CodeBlock block = codes.Slice(tile, Math.Min(tileRows, codes.Count - tile));
                for (int j = first; j < first + count; j++)
                {
                    TSink sink = sinkFor(j, tile);
                    ScanDispatch.Scan(isa, block, ref queries.WordRef(j), ref sink);
                }
            }
        }
        if (parts == 1)
        {
            RunPart(0);
        }
        else
        {
            RunParts(parts, RunPart);
        }
    }

    private static (int First, int Count) SplitEvenly(int items, int parts, int part)
    {
        int first = (int)((long)items * part / parts);
        int next = (int)((long)items * (part + 1) / parts);
        return (first, next - first);
    }

    private static Neighbor[] MergeNearest(TopKCollector[] collectors, int k)
    {
        var all = new List<Neighbor>();
        foreach (TopKCollector collector in collectors)
        {
            all.AddRange(collector.ToSortedArray());
        }
        all.Sort();
        return all.Count > k ? all.GetRange(0, k).ToArray() : all.ToArray();
    }
}
