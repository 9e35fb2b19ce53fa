using HammingDB.Index.Mih;
using HammingDB.Kernels;
using Xunit.Abstractions;

namespace HammingDB.Tests.Index;

/// <summary>
/// Filter words (<see cref="MihPostingWords.FilterWords"/>) for codes over 64 bits: the word holds the
/// bits after the substring (wrapping, never overlapping it), so substring distance + filter distance
/// bounds the distance from below; radius and kNN with filter words equal brute force.
/// </summary>
public class MihFilterWordTests(ITestOutputHelper output)
{
    // An oracle of the window by single bits: bit i of the word is code bit (start + bits + i) mod B, for i < min(64, B - bits).
    private static ulong OracleFilter(ulong[] code, int codeBits, int start, int bits)
    {
        ulong word = 0;
        for (int i = 0; i < Math.Min(64, codeBits - bits); i++)
        {
            int bit = (start + bits + i) % codeBits;
            word |= ((code[bit / 64] >> (bit % 64)) & 1) << i;
        }
        return word;
    }

    private static int OracleRangeDistance(ulong[] a, ulong[] b, int start, int bits)
    {
        int sum = 0;
        for (int bit = start; bit < start + bits; bit++)
        {
            sum += (int)(((a[bit / 64] ^ b[bit / 64]) >> (bit % 64)) & 1);
        }
        return sum;
    }

    [Theory]
    [InlineData(72, 1)]
    [InlineData(80, 2)]
    [InlineData(104, 3)]
    [InlineData(120, 4)]
    [InlineData(128, 5)]
    [InlineData(200, 6)]
    [InlineData(256, 7)]
    [InlineData(1000, 8)]
    public void The_filter_word_holds_the_bits_after_the_substring_and_bounds_the_distance(int codeBits, int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(codeBits);
        for (int trial = 0; trial < 300; trial++)
        {
            int bits = random.Next(1, Math.Min(64, codeBits) + 1);
            int start = random.Next(codeBits - bits + 1);
            ulong[] a = TestData.RandomCode(random, layout);
            ulong[] b = a.ToArray();
            for (int f = random.Next(codeBits / 4); f > 0; f--)
            {
                int bit = random.Next(codeBits);
                b[bit / 64] ^= 1UL << (bit % 64);
            }
            ulong fa = MihTable.FilterWordOf(a, codeBits, start, bits);
            ulong fb = MihTable.FilterWordOf(b, codeBits, start, bits);
            Assert.Equal(OracleFilter(a, codeBits, start, bits), fa);
            int length = MihTable.FilterBitsOf(codeBits, bits);
            Assert.Equal(Math.Min(64, codeBits - bits), length);
            Assert.True(length == 64 || fa >> length == 0, $"bits above {length} are 0");
            int bound = OracleRangeDistance(a, b, start, bits) + System.Numerics.BitOperations.PopCount(fa ^ fb);
            Assert.True(bound <= TestData.OracleDistance(a, b), $"[{start}, {start + bits}) of {codeBits}: bound {bound} > distance");
        }
        // The whole code as one substring leaves no bits for the word.
        Assert.Equal(0, MihTable.FilterBitsOf(64, 64));
    }

    [Theory]
    [InlineData(72, 3)]
    [InlineData(256, 4)]
    public void Tables_hold_each_postings_filter_word_and_codes_of_one_word_stay_inline(int bits, int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        PackedCodes codes = TestData.Codes(random, layout, 2000, pool: 30);
        var index = new MihIndex(codes.Block, MihLayout.Split(bits, 5, maxDirectBits: 8), filterWords: true);
        foreach (MihTable table in index.Tables)
        {
            Assert.Equal(MihPostingWords.FilterWords, table.PostingWords);
            Assert.True(table.InlineCodes.IsEmpty);
            Assert.Equal((1 << table.DirectBits) + 1 + (2000L * 3), table.Bytes / 4);
            for (int p = 0; p < table.Count; p++)
            {
                Assert.Equal(OracleFilter(codes[table.Rows[p]].ToArray(), bits, table.Start, table.Bits), table.FilterWords[p]);
            }
        }
        PackedCodes narrow = TestData.Codes(random, new CodeLayout(64), 100);
        Assert.All(new MihIndex(narrow.Block, MihLayout.Split(64, 3), filterWords: true).Tables, t => Assert.Equal(MihPostingWords.Codes, t.PostingWords));
        Assert.All(new MihIndex(codes.Block, MihLayout.Split(bits, 3)).Tables, t => Assert.Equal(MihPostingWords.None, t.PostingWords));
    }

    // Code widths are multiples of 8; 72 and 104 are the overlap cases (a filter word of fewer than 64 bits: B - bits < 64).
    public static TheoryData<int, int> Widths() => new()
    {
        { 72, 12 }, { 104, 13 }, { 128, 14 }, { 200, 15 }, { 256, 16 }, { 512, 17 }, { 1000, 18 },
    };

    /// <summary>
    /// The layouts each width is tested with: the chosen one, several forced counts with 12 direct bits (filtering the rest, so
    /// the ring bound is s, not t), and 4 direct bits so buckets hold far more than 48 postings (the kernels' filter scan).
    /// </summary>
    private static IEnumerable<MihLayout> Layouts(int bits, int rows)
    {
        yield return MihLayout.Choose(bits, rows);
        foreach (int m in new[] { 1, 2, 3, 5, 16, Math.Min(bits / 4, 64) }.Where(m => m >= 1 && m <= bits).Distinct())
        {
            yield return MihLayout.Split(bits, m, maxDirectBits: 12);
        }
        yield return MihLayout.Split(bits, Math.Min(bits, 8), maxDirectBits: 4);
    }

    /// <summary>Codes around a few centres at spread-out distances (0 .. bits/5 flips) with exact ties, plus some random codes.</summary>
    private static PackedCodes Clustered(Random random, CodeLayout layout, int count, int centres)
    {
        var codes = new PackedCodes(layout, count);
        ulong[][] bases = Enumerable.Range(0, Math.Max(1, centres)).Select(_ => TestData.RandomCode(random, layout)).ToArray();
        for (int i = 0; i < count; i++)
        {
            if (centres == 0 || random.Next(8) == 0)
            {
                codes.Add(TestData.RandomCode(random, layout));
                continue;
            }
            ulong[] code = bases[random.Next(bases.Length)].ToArray();
            int flips = random.Next(3) == 0 ? 0 : random.Next(layout.CodeBits / 5 + 1);
            for (int f = 0; f < flips; f++)
            {
                int bit = random.Next(layout.CodeBits);
                code[bit / 64] ^= 1UL << (bit % 64);
            }
            codes.Add(code);
        }
        return codes;
    }

    private static List<ulong[]> Queries(Random random, CodeLayout layout, PackedCodes codes)
    {
        var queries = new List<ulong[]> { TestData.RandomCode(random, layout) };
        for (int i = 0; i < 3 && codes.Count > 0; i++)
        {
            ulong[] q = codes[random.Next(codes.Count)].ToArray();
            for (int f = random.Next(layout.CodeBits / 16 + 1); f > 0; f--)
            {
                int bit = random.Next(layout.CodeBits);
                q[bit / 64] ^= 1UL << (bit % 64);
            }
            queries.Add(q);
        }
        return queries;
    }


    private static IEnumerable<(int Rows, int Centres)> Datasets() => [(0, 0), (1, 0), (150, 3), (3000, 0), (3000, 6)];

    [Theory]
    [MemberData(nameof(Widths))]
    public void Radius_with_filter_words_equals_brute_force(int bits, int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        long compared = 0;
        foreach ((int rows, int centres) in Datasets())
        {
            PackedCodes codes = Clustered(random, layout, rows, centres);
            List<ulong[]> queries = Queries(random, layout, codes);
            foreach (MihLayout split in Layouts(bits, rows))
            {
                var index = new MihIndex(codes.Block, split, filterWords: true);
                Assert.All(index.Tables, t => Assert.True(t.HasFilterWords));
                foreach (ulong[] query in queries)
                {
                    Neighbor[] all = TestData.BruteNeighbors(codes, query);
                    int[] radii = [0, 1, 2, 3, 5, 8, bits / 16, bits / 8, bits / 5, bits / 4, bits / 3, bits / 2, bits, random.Next(bits / 2 + 1)];
                    foreach (int r in radii.Distinct())
                    {
                        TestData.AssertSameNeighbors(all.Where(n => n.Distance <= r).ToArray(), index.Radius(query, r), $"{rows} rows, {centres} centres, {split}, r {r}");
                        compared++;
                    }
                }
            }
        }
        output.WriteLine($"{compared} radius searches equal brute force");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Knn_with_filter_words_equals_brute_force(int bits, int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed + 100);
        var layout = new CodeLayout(bits);
        long compared = 0;
        foreach ((int rows, int centres) in Datasets())
        {
            PackedCodes codes = Clustered(random, layout, rows, centres);
            List<ulong[]> queries = Queries(random, layout, codes);
            foreach (MihLayout split in Layouts(bits, rows))
            {
                var index = new MihIndex(codes.Block, split, filterWords: true);
                foreach (ulong[] query in queries)
                {
                    Neighbor[] all = TestData.BruteNeighbors(codes, query);
                    foreach (int k in new[] { 1, 2, 10, 100, rows - 1, rows, rows + 5 }.Where(k => k >= 0).Distinct())
                    {
                        TestData.AssertSameNeighbors(all.Take(k).ToArray(), index.Knn(query, k), $"{rows} rows, {centres} centres, {split}, k {k}");
                        compared++;
                    }
                }
            }
        }
        output.WriteLine($"{compared} kNN searches equal brute force");
    }

    [Theory]
    [InlineData(72, 21)]
    [InlineData(256, 22)]
    [InlineData(1000, 23)]
    public void Deleted_rows_with_filter_words_give_brute_force_over_the_kept_rows(int bits, int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(bits);
        PackedCodes codes = Clustered(random, layout, 4000, centres: 5);
        bool[] deleted = Enumerable.Range(0, codes.Count).Select(_ => random.Next(3) == 0).ToArray();
        foreach (MihLayout split in new[] { MihLayout.Choose(bits, codes.Count), MihLayout.Split(bits, 3, 12), MihLayout.Split(bits, 6, 4) })
        {
            var index = new MihIndex(codes.Block, split, filterWords: true);
            foreach (ulong[] query in Queries(random, layout, codes))
            {
                Neighbor[] kept = TestData.BruteNeighbors(codes, query, row => !deleted[row]);
                foreach (int r in new[] { 0, 2, 5, bits / 8, bits / 4, bits / 2 })
                {
                    var results = new List<Neighbor>();
                    var sink = new KeptRadius(deleted, results);
                    index.Radius(query, r, ref sink);
                    results.Sort();
                    TestData.AssertSameNeighbors(kept.Where(n => n.Distance <= r).ToArray(), [.. results], $"{split}, r {r}");
                }
                foreach (int k in new[] { 1, 10, 100, kept.Length, codes.Count })
                {
                    TestData.AssertSameNeighbors(kept.Take(k).ToArray(), index.Knn(query, k, new NotDeleted(deleted)), $"{split}, k {k}");
                }
            }
        }
    }

    [Fact]
    public void Filter_words_read_fewer_codes_and_answer_as_the_tables_without_them()
    {
        const int seed = 31;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var layout = new CodeLayout(256);
        PackedCodes codes = Clustered(random, layout, 20_000, centres: 10);
        MihLayout split = MihLayout.Choose(256, codes.Count);
        var plain = new MihIndex(codes.Block, split);
        var filtered = new MihIndex(codes.Block, split, filterWords: true);
        Assert.Equal(plain.Bytes + (8L * codes.Count * split.Count), filtered.Bytes);
        foreach (ulong[] query in Queries(random, layout, codes))
        {
            foreach (int r in new[] { 0, 8, 16, 24, 40 })
            {
                Assert.Equal(plain.Radius(query, r), filtered.Radius(query, r));
            }
            foreach (int k in new[] { 1, 10, 1000 })
            {
                Assert.Equal(plain.Knn(query, k), filtered.Knn(query, k));
            }
        }
    }

    [Fact]
    public void Tables_with_filter_words_over_codes_of_one_word_are_refused()
    {
        var random = new Random(5);
        output.WriteLine("seed 5");
        PackedCodes codes = TestData.Codes(random, new CodeLayout(64), 10);
        MihTable built = MihTable.Build(codes.Block, MihLayout.Split(64, 1, 4), 0);
        MihTable forged = MihTable.Wrap(0, 64, 4, 10, built.Offsets.ToArray(), built.Rows.ToArray(), new ulong[10], MihPostingWords.FilterWords);
        Assert.Throws<ArgumentException>(() => new MihIndex(codes.Block, [forged]));
        Assert.Throws<ArgumentException>(() => MihTable.Wrap(0, 64, 4, 10, built.Offsets.ToArray(), built.Rows.ToArray(), new ulong[9], MihPostingWords.FilterWords));
        Assert.Throws<ArgumentException>(() => MihTable.Wrap(0, 64, 4, 10, built.Offsets.ToArray(), built.Rows.ToArray(), new ulong[10], (MihPostingWords)3));
    }

    /// <summary>
    /// A stored table whose checksums pass but whose offsets or rows were crafted is refused when wrapped (the segment is
    /// then scanned), never left to make a search index out of range.
    /// </summary>
    [Fact]
    public void Wrapping_refuses_decreasing_offsets_and_rows_out_of_range()
    {
        var random = new Random(6);
        output.WriteLine("seed 6");
        PackedCodes codes = TestData.Codes(random, new CodeLayout(64), 100);
        MihTable built = MihTable.Build(codes.Block, MihLayout.Split(64, 1, 4), 0);
        int[] offsets = built.Offsets.ToArray();
        int[] rows = built.Rows.ToArray();
        ulong[] words = built.InlineCodes.ToArray();
        Assert.NotNull(MihTable.Wrap(0, 64, 4, 100, offsets, rows, words, MihPostingWords.Codes));

        int[] decreasing = (int[])offsets.Clone();
        int bucket = Array.FindIndex(decreasing, 1, o => o > 0);
        decreasing[bucket] = 101; // past the next offsets, then back down
        var e = Assert.Throws<ArgumentException>(() => MihTable.Wrap(0, 64, 4, 100, decreasing, rows, words, MihPostingWords.Codes));
        Assert.Contains("never decrease", e.Message, StringComparison.Ordinal);

        foreach (int bad in new[] { 100, -1, int.MaxValue })
        {
            int[] outside = (int[])rows.Clone();
            outside[37] = bad;
            e = Assert.Throws<ArgumentException>(() => MihTable.Wrap(0, 64, 4, 100, offsets, outside, words, MihPostingWords.Codes));
            Assert.Contains($"posting 37 names row {bad}", e.Message, StringComparison.Ordinal);
        }
    }
}
