using HammingDB.Index;
using HammingDB.Keys;

namespace HammingDB;

// Rescoring: the k * oversample nearest by Hamming distance (the exact kNN, one view), re-ranked by the
// stored float vectors, each read at the row the search found it (segment row or memtable row), never
// through the key index.
public sealed partial class HammingCollection<TKey>
{
    /// <summary>
    /// The <paramref name="k"/> rows whose stored vectors are nearest <paramref name="vector"/> by
    /// <paramref name="metric"/>, among the <paramref name="k"/> x <paramref name="oversample"/> rows whose codes are
    /// nearest <paramref name="code"/> (exact, ties by key); ordered by vector distance, ties by key. Each result
    /// has both distances. Sealed rows of an int8 collection are compared by their dequantized vectors; rows not yet
    /// sealed by the vectors as written.
    /// </summary>
    /// <param name="code">The query code.</param>
    /// <param name="vector">The query vector, of the collection's dimension, every value finite.</param>
    /// <param name="k">Results wanted, at least 1.</param>
    /// <param name="oversample">How many candidates per result the Hamming search fetches, at least 1.</param>
    /// <param name="metric">The vector distance (smaller is nearer).</param>
    /// <param name="plan">The plan of the Hamming search.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> or <paramref name="oversample"/> is below 1, their product passes
    /// <see cref="int.MaxValue"/>, or the metric is unknown.</exception>
    /// <exception cref="ArgumentException">The collection stores no vectors, the vector has another dimension or holds NaN or
    /// infinity, or the code is not one of this collection's width.</exception>
    public IReadOnlyList<RescoredResult<TKey>> KnnRescored(ReadOnlySpan<ulong> code, ReadOnlySpan<float> vector, int k, int oversample, VectorMetric metric,
        QueryPlan plan = QueryPlan.Auto)
    {
        int candidates = ValidateRescored(code, vector, k, oversample, metric);
        using ViewLease view = _runtime.Lease();
        return RescoreCore(view, code, vector, k, candidates, metric, plan, CancellationToken.None);
    }

    /// <summary><see cref="KnnRescored"/> on the thread pool; cancellation is checked between blocks of rows.</summary>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="KnnRescored"/> (thrown at once).</exception>
    /// <exception cref="ArgumentException">As <see cref="KnnRescored"/> (thrown at once).</exception>
    public Task<IReadOnlyList<RescoredResult<TKey>>> KnnRescoredAsync(ReadOnlyMemory<ulong> code, ReadOnlyMemory<float> vector, int k, int oversample,
        VectorMetric metric, CancellationToken cancellationToken = default) =>
        KnnRescoredAsync(code, vector, k, oversample, metric, QueryPlan.Auto, cancellationToken);

    /// <summary><see cref="KnnRescored"/> on the thread pool with the plan <paramref name="plan"/>; cancellation is checked between blocks of rows and MIH rings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="KnnRescored"/> (thrown at once).</exception>
    /// <exception cref="ArgumentException">As <see cref="KnnRescored"/> (thrown at once).</exception>
    public Task<IReadOnlyList<RescoredResult<TKey>>> KnnRescoredAsync(ReadOnlyMemory<ulong> code, ReadOnlyMemory<float> vector, int k, int oversample,
        VectorMetric metric, QueryPlan plan, CancellationToken cancellationToken = default)
    {
        int candidates = ValidateRescored(code.Span, vector.Span, k, oversample, metric);
        return Task.Run<IReadOnlyList<RescoredResult<TKey>>>(() =>
        {
            using ViewLease view = _runtime.Lease();
            return RescoreCore(view, code.Span, vector.Span, k, candidates, metric, plan, cancellationToken);
        }, cancellationToken);
    }

    // Checks every argument before anything runs; returns k x oversample.
    private int ValidateRescored(ReadOnlySpan<ulong> code, ReadOnlySpan<float> vector, int k, int oversample, VectorMetric metric)
    {
        int dimension = _runtime.Definition.VectorDimension;
        if (dimension == 0)
        {
            throw new ArgumentException($"Collection '{Name}' stores no vectors, so it cannot rescore; create it with a VectorDimension.", nameof(vector));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(oversample);
        long candidates = (long)k * oversample;
        if (candidates > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(oversample), oversample, $"k x oversample = {candidates} candidates is more than {int.MaxValue}.");
        }
        if (!Enum.IsDefined(metric))
        {
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "The vector metric is unknown.");
        }
        Layout.Validate(code, nameof(code));
        if (vector.Length != dimension)
        {
            throw new ArgumentException($"Collection '{Name}' stores vectors of dimension {dimension}; the query vector has {vector.Length} values.", nameof(vector));
        }
        for (int i = 0; i < vector.Length; i++)
        {
            if (!float.IsFinite(vector[i]))
            {
                throw new ArgumentException($"Query vector value {i} is {vector[i]}; only finite values can be compared.", nameof(vector));
            }
        }
        return (int)candidates;
    }

    private List<RescoredResult<TKey>> RescoreCore(ViewLease view, ReadOnlySpan<ulong> code, ReadOnlySpan<float> vector, int k, int candidates,
        VectorMetric metric, QueryPlan plan, CancellationToken cancellationToken)
    {
        List<KeyedNeighbor> found = KnnLocated(view, code, candidates, plan, null, cancellationToken);
        double queryNorm = metric == VectorMetric.Cosine ? Math.Sqrt(VectorDistance.Dot(vector, vector)) : 0;
        var scored = new (double Distance, int Index)[found.Count];
        var buffer = new float[vector.Length];
        for (int i = 0; i < found.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            KeyedNeighbor neighbor = found[i];
            ReadOnlySpan<float> stored;
            if (neighbor.Source == KeyedNeighbor.Memtable)
            {
                stored = view.Memtable.VectorSpan(neighbor.Row);
            }
            else
            {
                view.Segments[neighbor.Source].Reader.ReadVector(neighbor.Row, buffer);
                stored = buffer;
            }
            scored[i] = (VectorDistance.Compute(metric, vector, stored, queryNorm), i);
        }
        // By vector distance, then key (the keys of one view are distinct).
        Array.Sort(scored, (a, b) =>
        {
            int byDistance = a.Distance.CompareTo(b.Distance);
            return byDistance != 0 ? byDistance : found[a.Index].Key.AsSpan().SequenceCompareTo(found[b.Index].Key);
        });
        var results = new List<RescoredResult<TKey>>(Math.Min(k, scored.Length));
        for (int i = 0; i < scored.Length && i < k; i++)
        {
            KeyedNeighbor neighbor = found[scored[i].Index];
            results.Add(new RescoredResult<TKey>(KeyCodecFor<TKey>.Decode(neighbor.Key), neighbor.Distance, scored[i].Distance));
        }
        return results;
    }
}

/// <summary>
/// The distances of <see cref="VectorMetric"/> (smaller is nearer in all three), accumulated in
/// double in index order: what rescoring ranks by, and what evaluation compares with float64
/// ground truth.
/// </summary>
public static class VectorDistance
{
    /// <summary>The distance of <paramref name="stored"/> to <paramref name="query"/> by <paramref name="metric"/>.</summary>
    /// <exception cref="ArgumentException">The vectors differ in length.</exception>
    public static double Distance(VectorMetric metric, ReadOnlySpan<float> query, ReadOnlySpan<float> stored)
    {
        if (query.Length != stored.Length)
        {
            throw new ArgumentException($"the vectors have lengths {query.Length} and {stored.Length}", nameof(stored));
        }
        return Compute(metric, query, stored, metric == VectorMetric.Cosine ? Math.Sqrt(Dot(query, query)) : 0);
    }

    /// <summary>
    /// The distance of <paramref name="stored"/> to <paramref name="query"/>: L2 squared, 1 - cosine (1 when a norm is 0),
    /// or the negated dot product; <paramref name="queryNorm"/> is |query|, used by cosine only. Lengths are not checked.
    /// </summary>
    internal static double Compute(VectorMetric metric, ReadOnlySpan<float> query, ReadOnlySpan<float> stored, double queryNorm)
    {
        switch (metric)
        {
            case VectorMetric.L2:
                double sum = 0;
                for (int i = 0; i < query.Length; i++)
                {
                    double d = (double)query[i] - stored[i];
                    sum += d * d;
                }
                return sum;
            case VectorMetric.Dot:
                return -Dot(query, stored);
            default:
                double storedNorm = Math.Sqrt(Dot(stored, stored));
                return queryNorm == 0 || storedNorm == 0 ? 1 : 1 - Dot(query, stored) / (queryNorm * storedNorm);
        }
    }

    /// <summary>The dot product, accumulated in double; lengths are not checked.</summary>
    internal static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }
        return sum;
    }
}
