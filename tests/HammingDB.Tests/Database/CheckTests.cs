using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using HammingDB.Index.Mih;
using HammingDB.Kernels;
using HammingDB.Storage;
using HammingDB.Storage.Keys;
using HammingDB.Storage.Log;
using HammingDB.Storage.Manifest;
using HammingDB.Storage.Segments;
using HammingDB.Tests.Storage;
using HammingDB.Writing;
using Xunit.Abstractions;

namespace HammingDB.Tests.Database;

/// <summary>
/// <see cref="HammingDatabase.Check(string)"/>: a clean database passes; every single-bit flip and
/// truncation of each file kind is reported against that file (damage, or a notice for a torn log
/// tail) while Open refuses it or answers exactly as before; planted key-index damage is reported by
/// key; and nothing is ever changed.
/// </summary>
public sealed class CheckTests(ITestOutputHelper output)
{
    private const string Dir = "/db";
    // Close leaves the memtable in the log: these tests need records in it.
    private static readonly DatabaseOptions Options = new() { BackgroundCompaction = false, SealOnClose = false };
    private static readonly string ManifestPath = Path.Combine(Dir, FileNames.Manifest);

    private static ulong Code(ulong seed) => seed * 0x9E3779B97F4A7C15UL;

    private static byte[] Key(ulong key)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, key);
        return bytes;
    }

    /// <summary>
    /// A tiny database: collection "a" (ulong keys, payloads) with segment 2 (keys 1..8 at rows 0..7),
    /// its bitmap version 1 (rows 2 and 4: keys 3 and 5 deleted), segment 4 (key 5 again); collection
    /// "b" (string keys) created later; and log 5 holding three batches (upsert a:9, upsert b:"x", delete a:1).
    /// </summary>
    private static MemoryFileSystem SmallDatabase(IKeyIndexStore keys)
    {
        var fs = new MemoryFileSystem();
        using HammingDatabase db = HammingDatabase.Open(fs, Dir, Options, keys);
        var a = db.CreateCollection<ulong>("a", new CollectionOptions { CodeBits = 64, Payloads = true });
        for (ulong k = 1; k <= 8; k++)
        {
            a.Upsert(k, [Code(k)], [(byte)k]);
        }
        db.Flush();
        a.Delete(3);
        a.Upsert(5, [Code(50)], [50]);
        db.Flush();
        var b = db.CreateCollection<string>("b", new CollectionOptions { CodeBits = 64 });
        a.Upsert(9, [Code(9)], [9]);
        b.Upsert("x", [Code(100)]);
        a.Delete(1);
        return fs;
    }

    private static readonly string SegmentPath = Path.Combine(Dir, FileNames.Segment(2));
    private static readonly string BitmapPath = Path.Combine(Dir, FileNames.Deletions(2, 1));
    private static readonly string LogPath = Path.Combine(Dir, FileNames.Log(5));

    private static List<long> RecordEnds(MemoryFileSystem fs)
    {
        using IStorageFile file = fs.Open(LogPath, writable: false);
        return LogReader.Read(file).Records.Select(r => r.Offset + LogFormat.RecordHeaderBytes + r.Payload.Length).ToList();
    }

    /// <summary>Everything a reader can ask, from a database opened on a copy (opening may cut a torn log tail).</summary>
    private static string Answers(MemoryFileSystem fs)
    {
        using HammingDatabase db = HammingDatabase.Open(fs.Clone(), Dir, Options, new MemoryKeyIndexStore());
        var text = new StringBuilder();
        foreach (CollectionInfo info in db.Collections)
        {
            text.Append(info.Name).Append(": ");
            if (info.KeyType == typeof(ulong))
            {
                Describe(db.GetCollection<ulong>(info.Name), text, Enumerable.Range(0, 12).Select(i => (ulong)i));
            }
            else
            {
                Describe(db.GetCollection<string>(info.Name), text, ["x", "y"]);
            }
        }
        return text.ToString();
    }

    private static void Describe<TKey>(HammingCollection<TKey> collection, StringBuilder text, IEnumerable<TKey> probes)
        where TKey : notnull
    {
        static string Hex(ulong[] code) => Convert.ToHexString(MemoryMarshal.AsBytes(code.AsSpan()));
        text.Append(collection.Count).Append(" rows; ");
        foreach (StoredRow<TKey> row in collection.EnumerateRows())
        {
            text.Append(row.Key).Append('=').Append(Hex(row.Code)).Append('/').Append(row.Payload is null ? "-" : Convert.ToHexString(row.Payload)).Append(' ');
        }
        text.Append("; knn ");
        foreach (SearchResult<TKey> r in collection.Knn([Code(4)], 20))
        {
            text.Append(r.Key).Append('@').Append(r.Distance).Append(' ');
        }
        text.Append("; radius ");
        foreach (SearchResult<TKey> r in collection.Radius([Code(4)], 34))
        {
            text.Append(r.Key).Append('@').Append(r.Distance).Append(' ');
        }
        text.Append("; get ");
        foreach (TKey key in probes)
        {
            text.Append(collection.TryGet(key, out StoredRow<TKey>? row) ? Hex(row!.Code) : "none").Append(' ');
        }
        text.AppendLine();
    }

    private static Dictionary<string, byte[]> Snapshot(MemoryFileSystem fs) =>
        fs.ListFiles(Dir).ToDictionary(name => name, name => fs.ReadAllBytes(Path.Combine(Dir, name)));

    private static void AssertUnchanged(Dictionary<string, byte[]> before, Dictionary<string, byte[]> after, string what)
    {
        Assert.True(before.Keys.Order().SequenceEqual(after.Keys.Order()), $"{what}: the files changed: {string.Join(' ', after.Keys)}");
        foreach (var (name, bytes) in before)
        {
            Assert.True(bytes.AsSpan().SequenceEqual(after[name]), $"{what}: {name} changed");
        }
    }

    private static CheckReport CheckUnchanged(MemoryFileSystem fs, IKeyIndexStore keys, string what)
    {
        Dictionary<string, byte[]> before = Snapshot(fs);
        CheckReport report = HammingDatabase.Check(fs, Dir, keys);
        AssertUnchanged(before, Snapshot(fs), what);
        Assert.DoesNotContain(report.Problems, p => p.Problem.StartsWith("unexpected", StringComparison.Ordinal)); // every damage met a typed check
        return report;
    }

    [Fact]
    public void A_clean_database_with_segments_bitmaps_a_log_and_two_collections_is_ok()
    {
        var keys = new MemoryKeyIndexStore(keep: true);
        var fs = new MemoryFileSystem();
        var random = new Random(7);
        output.WriteLine("seed 7");
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, Options, keys))
        {
            var items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 128, Payloads = true });
            var names = db.CreateCollection<string>("names", new CollectionOptions { CodeBits = 64, VectorDimension = 2 });
            for (int round = 0; round < 4; round++)
            {
                for (int b = 0; b < 10; b++)
                {
                    CollectionBatch<ulong> batch = items.NewBatch();
                    for (int i = 0; i < 500; i++)
                    {
                        batch.Upsert((ulong)random.Next(12_000), [(ulong)random.NextInt64(), (ulong)random.NextInt64()], [(byte)i]);
                        if (i % 7 == 0)
                        {
                            batch.Delete((ulong)random.Next(12_000));
                        }
                    }
                    items.Apply(batch);
                }
                names.Upsert($"name-{round}", [(ulong)round], vector: [round, 1f]);
                names.Delete($"name-{round - 1}");
                db.Flush();
            }
            db.Compact(); // one merged segment per collection, then more segments and bitmaps on top
            CollectionBatch<ulong> more = items.NewBatch();
            for (int i = 0; i < 3000; i++)
            {
                more.Upsert((ulong)random.Next(12_000), [(ulong)i, 1], [1]);
            }
            items.Apply(more);
            db.Flush();
            items.Delete(items.EnumerateRows().First().Key);
            names.Upsert("name-9", [9], vector: [9f, 9f]);
            db.Flush();
            for (int i = 0; i < 50; i++)
            {
                items.Upsert((ulong)random.Next(12_000), [(ulong)i, 2], [2]); // the memtable, in the log
            }
        }
        ManifestState manifest = ManifestStore.Read(fs, Dir)!;
        Assert.True(manifest.Collections[0].Segments.Count >= 2 && manifest.Collections[0].Segments.Any(s => s.DeletionVersion > 0));

        CheckReport report = CheckUnchanged(fs, keys, "clean");
        foreach (CheckProblem problem in report.Problems)
        {
            output.WriteLine(problem.ToString());
        }
        Assert.True(report.Ok);
        Assert.Empty(report.Problems);
        int files = 1 + 1 + 1 + manifest.Collections.Sum(c => c.Segments.Count + c.Segments.Count(s => s.DeletionVersion > 0)); // manifest, log, index
        Assert.Equal(files, report.FilesChecked);
        Assert.Equal(manifest.Collections.Sum(c => c.Segments.Sum(s => (long)s.Rows)) + 50, report.RowsChecked);
    }

    [Fact]
    public void Every_single_bit_flip_of_each_file_is_reported_and_open_refuses_it_or_answers_as_before()
    {
        MemoryFileSystem clean = SmallDatabase(new MemoryKeyIndexStore());
        List<long> ends = RecordEnds(clean);
        Assert.Equal(3, ends.Count);
        string full = Answers(clean);
        string withoutLast = Answers(Truncated(clean, LogPath, (int)ends[1]));
        Assert.NotEqual(full, withoutLast);
        Assert.True(CheckUnchanged(clean, new MemoryKeyIndexStore(), "clean").Ok);
        foreach (string path in new[] { ManifestPath, SegmentPath, BitmapPath, LogPath })
        {
            byte[] whole = clean.ReadAllBytes(path);
            int refused = 0, same = 0;
            for (int bit = 0; bit < whole.Length * 8; bit++)
            {
                byte[] damaged = whole.ToArray();
                damaged[bit / 8] ^= (byte)(1 << (bit % 8));
                bool inLastRecord = path == LogPath && bit / 8 >= ends[1];
                bool answered = Variant(clean, path, damaged, $"{Path.GetFileName(path)} bit {bit}", noticeAllowed: inLastRecord,
                    inLastRecord ? [full, withoutLast] : [full]);
                (answered ? ref same : ref refused)++;
            }
            output.WriteLine($"{Path.GetFileName(path)}: {whole.Length * 8} flips reported; open (or a read) refused {refused}, answered as allowed {same}");
        }
    }

    [Fact]
    public void Every_truncation_of_each_file_is_reported_and_open_refuses_it_or_answers_from_a_point_in_time()
    {
        MemoryFileSystem clean = SmallDatabase(new MemoryKeyIndexStore());
        List<long> ends = RecordEnds(clean);
        string full = Answers(clean);
        string[] prefixes = [.. new[] { (long)LogFormat.HeaderBytes }.Concat(ends).Select(end => Answers(Truncated(clean, LogPath, (int)end)))];
        foreach (string path in new[] { ManifestPath, SegmentPath, BitmapPath, LogPath })
        {
            int length = clean.ReadAllBytes(path).Length;
            foreach (int cut in new[] { 0, 1, 8, 31, 32, 33, length / 2, length - 5, length - 1 }.Where(c => c < length).Distinct())
            {
                string what = $"{Path.GetFileName(path)} cut to {cut} of {length} bytes";
                if (path != LogPath)
                {
                    Variant(clean, path, clean.ReadAllBytes(path)[..cut], what, noticeAllowed: false, [full]);
                    continue;
                }
                // The log: a cut inside the header is damage; past it, a torn tail (a point in time); at a record's end, a
                // valid shorter log that nothing can tell from one never written further.
                int whole = ends.Count(end => end <= cut);
                if (cut == LogFormat.HeaderBytes || ends.Contains(cut))
                {
                    MemoryFileSystem fs = Truncated(clean, path, cut);
                    Assert.True(CheckUnchanged(fs, new MemoryKeyIndexStore(), what).Ok, what);
                    Assert.Equal(prefixes[whole], Answers(fs));
                    continue;
                }
                Variant(clean, path, clean.ReadAllBytes(path)[..cut], what, noticeAllowed: cut >= LogFormat.HeaderBytes, [prefixes[whole]]);
            }
        }
    }

    private static MemoryFileSystem Truncated(MemoryFileSystem clean, string path, int length)
    {
        MemoryFileSystem fs = clean.Clone();
        fs.Replace(path, clean.ReadAllBytes(path)[..length]);
        return fs;
    }

    // Checks one damaged copy: reported against the damaged file, nothing changed; then Open refuses it with a typed error
    // (true: it answered) or answers one of the allowed ways. Never another exception type, never another answer.
    private static bool Variant(MemoryFileSystem clean, string path, byte[] damaged, string what, bool noticeAllowed, string[] allowed)
    {
        MemoryFileSystem fs = clean.Clone();
        fs.Replace(path, damaged);
        CheckReport report = CheckUnchanged(fs, new MemoryKeyIndexStore(), what);
        bool reported = report.Problems.Any(p => p.File == path && (p.Severity == CheckSeverity.Damage || noticeAllowed));
        Assert.True(reported, $"{what}: not reported against the file. Found:\n{string.Join('\n', report.Problems)}");
        Assert.True(noticeAllowed || !report.Ok, $"{what}: reported as a notice only");
        string answers;
        try
        {
            answers = Answers(fs);
        }
        catch (StorageException)
        {
            return false; // CorruptionException included: a typed refusal
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: Open or a read threw {e}");
            throw;
        }
        Assert.True(allowed.Contains(answers), $"{what}: a wrong answer:\n{answers}\nexpected:\n{string.Join("\nor\n", allowed)}");
        return true;
    }

    [Fact]
    public void Damage_to_the_mih_tables_of_a_segment_is_reported_with_file_and_offset_and_searches_scan_that_segment()
    {
        // Segment 2 written again with the same rows and two MIH tables (the engine builds none for so few rows).
        MemoryFileSystem clean = SmallDatabase(new MemoryKeyIndexStore());
        SegmentContents contents;
        using (SegmentReader reader = SegmentReader.Open(clean, SegmentPath))
        {
            var codes = new PackedCodes(reader.Layout, reader.Rows);
            codes.AddRange(reader.Codes.Words, reader.Rows);
            contents = new SegmentContents
            {
                Codes = codes,
                KeyKind = reader.KeyKind,
                Keys = reader.AllKeys().ToList(),
                Payloads = reader.AllPayloads().ToList(),
                MihTables = SegmentMihTests.BuildTables(codes.Block, MihLayout.Split(64, 2, maxDirectBits: 4)),
            };
        }
        SegmentWriter.Write(clean, Dir, FileNames.Segment(2), contents);
        string full = Answers(clean);
        CheckReport report = CheckUnchanged(clean, new MemoryKeyIndexStore(), "with MIH tables");
        Assert.True(report.Ok, string.Join('\n', report.Problems)); // a notice only: this key index store keeps nothing

        long start = SegmentFormat.Align64(SegmentFormat.HeaderBytes + 8 * 8L); // 8 rows of 64 bits
        long end = contents.MihTables.Aggregate(start, (at, t) => SegmentFormat.MihTablePlace(at, t.DirectBits, 8, t.Codes is not null).End);
        byte[] whole = clean.ReadAllBytes(SegmentPath);
        foreach (long at in new[] { start, start + 4 * 17 + 1, start + 128 + 5, end - 1 }) // offsets, padding, rows, the last inline code
        {
            byte[] damaged = whole.ToArray();
            damaged[at] ^= 0x04;
            string what = $"MIH byte {at}";
            // The tables are derived data: open succeeds, the damaged tables are never used, answers are as before.
            Assert.True(Variant(clean, SegmentPath, damaged, what, noticeAllowed: false, [full]), $"{what}: open refused it");
            MemoryFileSystem fs = clean.Clone();
            fs.Replace(SegmentPath, damaged);
            using (HammingDatabase db = HammingDatabase.Open(fs.Clone(), Dir, Options, new MemoryKeyIndexStore()))
            {
                var explained = db.Collections.Where(c => c.KeyType == typeof(ulong) && c.CodeBits == 64)
                    .SelectMany(c => db.GetCollection<ulong>(c.Name).ExplainKnn(new ulong[1], 3, QueryPlan.Mih).Segments)
                    .Single(e => e.FileNumber == 2);
                Assert.True(explained.Plan == "scan" && explained.Reason.StartsWith("MIH tables unusable: ", StringComparison.Ordinal), explained.ToString());
            }
            CheckReport damagedReport = CheckUnchanged(fs, new MemoryKeyIndexStore(), what);
            CheckProblem problem = Assert.Single(damagedReport.Problems, p => p.Severity == CheckSeverity.Damage);
            Assert.Equal(new CheckProblem(CheckSeverity.Damage, SegmentPath, start, $"the checksum of the MiB of MIH tables at {start} does not match"), problem);
            Assert.Equal(report.RowsChecked, damagedReport.RowsChecked); // the segment was still opened and the rest of it checked
        }
    }

    [Fact]
    public void A_key_index_pointing_a_key_at_the_wrong_row_is_damage_naming_the_key()
    {
        var keys = new MemoryKeyIndexStore(keep: true);
        MemoryFileSystem fs = SmallDatabase(keys);
        using (IKeyIndex index = keys.Open())
        {
            index.Upsert(1, Key(4), new RowLocation(2, 5)); // row 5 holds key 6
        }
        CheckReport report = CheckUnchanged(fs, keys, "wrong row");
        foreach (CheckProblem problem in report.Problems)
        {
            output.WriteLine(problem.ToString());
        }
        Assert.False(report.Ok);
        Assert.Contains(report.Problems, p => p is { Severity: CheckSeverity.Damage, Offset: -1 } && p.File == keys.Location
            && p.Problem == "key 4 of collection 'a' points at row 5 of segment 2; its live row is row 3 of segment 2");
        Assert.Contains(report.Problems, p => p.Severity == CheckSeverity.Damage && p.Problem == "key 4 of collection 'a' points at row 5 of segment 2, which holds key 6");
        Assert.All(report.Problems, p => Assert.Contains("key 4 of", p.Problem, StringComparison.Ordinal));
    }

    [Fact]
    public void A_compaction_with_a_delete_during_its_merge_leaves_no_stale_index_entry()
    {
        var keys = new MemoryKeyIndexStore(keep: true);
        var fs = new MemoryFileSystem();
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, Options, keys))
        {
            var a = db.CreateCollection<ulong>("a", new CollectionOptions { CodeBits = 64 });
            for (ulong k = 1; k <= 20; k++)
            {
                a.Upsert(k, [Code(k)]);
                if (k % 10 == 0)
                {
                    db.Flush();
                }
            }
            db.AfterCompactionMerge = () =>
            {
                a.Delete(3);                   // deleted while its row is merged: the merged row starts deleted
                a.Upsert(14, [Code(140)]);     // written again, still in the memtable
            };
            db.Compact();
            db.AfterCompactionMerge = null;
            Assert.False(a.TryGet(3, out _));
            db.Flush(); // the new version of 14 sealed
        }
        CheckReport report = CheckUnchanged(fs, keys, "after compaction");
        Assert.True(report.Problems.Count == 0, string.Join('\n', report.Problems));
    }

    [Fact]
    public void Missing_and_extra_key_index_entries_are_found()
    {
        var keys = new MemoryKeyIndexStore(keep: true);
        MemoryFileSystem fs = SmallDatabase(keys);
        using (IKeyIndex index = keys.Open())
        {
            index.Delete(1, Key(6));                                  // missing
            index.Upsert(1, Key(100), new RowLocation(2, 50));        // a row that does not exist
            index.Upsert(1, Key(101), new RowLocation(77, 0));        // a segment the collection does not have
            index.Upsert(9, Key(1), new RowLocation(2, 0));           // a collection the manifest does not have
            index.Upsert(1, Key(102), new RowLocation(2, 2));         // a deleted row holding another key
            index.Upsert(1, Key(3), new RowLocation(2, 2));           // its own deleted row: stale, harmless
        }
        CheckReport report = CheckUnchanged(fs, keys, "planted");
        foreach (CheckProblem problem in report.Problems)
        {
            output.WriteLine(problem.ToString());
        }
        void Has(CheckSeverity severity, string text) =>
            Assert.Contains(report.Problems, p => p.Severity == severity && p.File == keys.Location && p.Problem.Contains(text, StringComparison.Ordinal));
        Has(CheckSeverity.Damage, "key 6 of collection 'a' has no entry; its live row is row 5 of segment 2");
        Has(CheckSeverity.Damage, "key 100 of collection 'a' points at row 50 of segment 2, which has 8 rows");
        Has(CheckSeverity.Damage, "key 101 of collection 'a' points at segment 77, which the collection does not have");
        Has(CheckSeverity.Damage, "an entry of collection id 9, which the manifest does not have");
        Has(CheckSeverity.Damage, "key 102 of collection 'a' points at row 2 of segment 2, which holds key 3 (deleted)");
        Has(CheckSeverity.Notice, "key 3 of collection 'a' points at its deleted row 2 of segment 2: a stale entry");
        Assert.Equal(6, report.Problems.Count);
    }

    [Fact]
    public void A_key_live_in_two_segments_is_damage_and_a_stale_index_is_a_notice_not_compared()
    {
        var keys = new MemoryKeyIndexStore(keep: true);
        MemoryFileSystem fs = SmallDatabase(keys);
        // Bitmap version 2 of segment 2 forgets that key 5 (row 4) was superseded by segment 4.
        var bitmap = new DeletionBitmap(8);
        bitmap.Delete(2);
        bitmap.Write(fs, Dir, 2, 2);
        ManifestState manifest = ManifestStore.Read(fs, Dir)!;
        CollectionState a = manifest.Collections[0];
        ManifestStore.Write(fs, Dir, manifest with
        {
            Collections = [a with { Segments = [a.Segments[0] with { DeletionVersion = 2, DeletedRows = 1 }, a.Segments[1]] }, manifest.Collections[1]],
        });
        CheckReport report = CheckUnchanged(fs, keys, "two live rows");
        foreach (CheckProblem problem in report.Problems)
        {
            output.WriteLine(problem.ToString());
        }
        Assert.Contains(report.Problems, p => p.Severity == CheckSeverity.Damage && (p.File == SegmentPath || p.File == Path.Combine(Dir, FileNames.Segment(4)))
            && p.Problem.Contains("key 5 of collection 'a' is live here", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p is { Severity: CheckSeverity.Notice } && p.File == BitmapPath); // version 1 is now an orphan

        // The index checkpoint behind the manifest: rebuilt at the next open, so a notice, and its entries are not judged.
        using (IKeyIndex index = keys.Open())
        {
            index.Checkpoint(index.Version - 1);
        }
        report = CheckUnchanged(fs, keys, "stale");
        Assert.Single(report.Problems, p => p.File == keys.Location);
        Assert.Contains(report.Problems, p => p is { Severity: CheckSeverity.Notice } && p.File == keys.Location && p.Problem.StartsWith("stale", StringComparison.Ordinal));
    }

    [Fact]
    public void Log_records_that_decode_wrong_missing_files_and_orphans_are_reported_and_the_rest_still_checked()
    {
        MemoryFileSystem clean = SmallDatabase(new MemoryKeyIndexStore());

        // Whole records (checksums right) that are not batches of this database.
        MemoryFileSystem fs = clean.Clone();
        var foreign = new WriteBatch(7, new CollectionShape(new CodeLayout(64), false, 0));
        foreign.Delete(Key(1));
        var wrongKey = new WriteBatch(2, new CollectionShape(new CodeLayout(64), false, 0));
        wrongKey.Upsert([0xFF, 0xFE], [1UL], [], false, []); // not UTF-8, in the string collection
        long end = clean.ReadAllBytes(LogPath).Length;
        using (IStorageFile file = fs.Open(LogPath, writable: false))
        {
            using LogWriter writer = LogWriter.Reopen(fs, LogPath, LogReader.Read(file));
            writer.Append(WriteBatch.RecordType, foreign.Encode());
            writer.Append(9, [1, 2, 3]);
            writer.Append(WriteBatch.RecordType, wrongKey.Encode());
        }
        CheckReport report = CheckUnchanged(fs, new MemoryKeyIndexStore(), "records");
        Assert.Contains(report.Problems, p => p.File == LogPath && p.Offset == end && p.Problem.Contains("collection 7, which the manifest does not have", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p.File == LogPath && p.Problem == "record type 9 is unknown");
        Assert.Contains(report.Problems, p => p.File == LogPath && p.Problem == "a key of collection 'b' is not valid UTF-8");
        Assert.Equal(3, report.Problems.Count(p => p.Severity == CheckSeverity.Damage));

        // Missing files: each reported; the others still checked (a segment's damage is found with the log gone).
        fs = clean.Clone();
        fs.Delete(LogPath);
        fs.Delete(BitmapPath);
        byte[] segment = fs.ReadAllBytes(Path.Combine(Dir, FileNames.Segment(4)));
        segment[SegmentFormat.HeaderBytes] ^= 1;
        fs.Replace(Path.Combine(Dir, FileNames.Segment(4)), segment);
        fs.Create(Path.Combine(Dir, FileNames.Temp(FileNames.Manifest))).Dispose();
        fs.Create(Path.Combine(Dir, "notes.txt")).Dispose();
        report = CheckUnchanged(fs, new MemoryKeyIndexStore(), "missing");
        foreach (CheckProblem problem in report.Problems)
        {
            output.WriteLine(problem.ToString());
        }
        Assert.Contains(report.Problems, p => p is { Severity: CheckSeverity.Damage, Offset: -1 } && p.File == LogPath && p.Problem.StartsWith("missing", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p is { Severity: CheckSeverity.Damage, Offset: -1 } && p.File == BitmapPath && p.Problem.StartsWith("missing", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p is { Severity: CheckSeverity.Damage, Offset: SegmentFormat.HeaderBytes } && p.File == Path.Combine(Dir, FileNames.Segment(4)));
        Assert.Contains(report.Problems, p => p is { Severity: CheckSeverity.Notice } && p.File == Path.Combine(Dir, "MANIFEST.tmp") && p.Problem.Contains("the next open removes it", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p is { Severity: CheckSeverity.Notice } && p.File == Path.Combine(Dir, "notes.txt") && p.Problem.StartsWith("not a HammingDB file", StringComparison.Ordinal));

        // No manifest: the files are checked on their own.
        fs = clean.Clone();
        fs.Delete(ManifestPath);
        segment = fs.ReadAllBytes(SegmentPath);
        segment[^(SegmentFormat.FooterBytes + 44)] ^= 1; // in the payload block (the metadata before the footer is 40 bytes)
        fs.Replace(SegmentPath, segment);
        report = CheckUnchanged(fs, new MemoryKeyIndexStore(), "no manifest");
        foreach (CheckProblem problem in report.Problems)
        {
            output.WriteLine(problem.ToString());
        }
        Assert.Contains(report.Problems, p => p is { Severity: CheckSeverity.Damage } && p.File == ManifestPath && p.Problem.StartsWith("missing", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p is { Severity: CheckSeverity.Damage } && p.File == SegmentPath && p.Problem.Contains("block checksum", StringComparison.Ordinal));
        Assert.Equal(4, report.FilesChecked); // segments 2 and 4, bitmap 2/1, log 5
    }

    [Fact]
    public void What_the_manifest_says_and_the_files_contradict_is_damage()
    {
        MemoryFileSystem clean = SmallDatabase(new MemoryKeyIndexStore());
        ManifestState manifest = ManifestStore.Read(clean, Dir)!;
        CollectionState a = manifest.Collections[0];

        MemoryFileSystem fs = clean.Clone();
        ManifestStore.Write(fs, Dir, manifest with { Collections = [a with { Segments = [a.Segments[0] with { DeletedRows = 1 }, a.Segments[1]] }, manifest.Collections[1]] });
        CheckReport report = CheckUnchanged(fs, new MemoryKeyIndexStore(), "deleted rows");
        Assert.Contains(report.Problems, p => p is { Severity: CheckSeverity.Damage, Offset: 24 } && p.File == BitmapPath && p.Problem == "holds 2 deleted rows; the manifest says 1");

        fs = clean.Clone();
        ManifestStore.Write(fs, Dir, manifest with { Collections = [a with { Segments = [a.Segments[0] with { Rows = 9 }, a.Segments[1]] }, manifest.Collections[1] with { KeyKind = KeyKind.Guid }] });
        report = CheckUnchanged(fs, new MemoryKeyIndexStore(), "rows");
        Assert.Contains(report.Problems, p => p is { Severity: CheckSeverity.Damage, Offset: 16 } && p.File == SegmentPath && p.Problem == "holds 8 rows; the manifest says 9");
        Assert.Contains(report.Problems, p => p is { Severity: CheckSeverity.Damage } && p.File == LogPath && p.Problem.Contains("is 1 bytes; a Guid key is 16", StringComparison.Ordinal));

        fs = clean.Clone();
        ManifestStore.Write(fs, Dir, manifest with { Collections = [a with { Segments = [a.Segments[0], a.Segments[0]] }, manifest.Collections[1]] });
        report = CheckUnchanged(fs, new MemoryKeyIndexStore(), "structure");
        Assert.Contains(report.Problems, p => p is { Severity: CheckSeverity.Damage, Offset: ManifestStore.HeaderBytes } && p.File == ManifestPath && p.Problem.Contains("used twice", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p.Severity == CheckSeverity.Notice && p.File == ManifestPath); // the files were then checked on their own
    }

    [Fact]
    public void On_disk_check_reads_the_faster_index_from_a_copy_changes_nothing_and_respects_the_writer_lock()
    {
        string dir = Path.Combine(Directory.CreateTempSubdirectory("hdb-check-").FullName, "db");
        try
        {
            using (HammingDatabase db = HammingDatabase.Open(dir, Options))
            {
                var a = db.CreateCollection<ulong>("a", new CollectionOptions { CodeBits = 64 });
                CollectionBatch<ulong> batch = a.NewBatch();
                for (ulong k = 0; k < 5000; k++)
                {
                    batch.Upsert(k, [Code(k)]);
                }
                a.Apply(batch);
                db.Flush();
                a.Delete(10);
                db.Flush();
                a.Upsert(6000, [Code(6000)]);
                Assert.Contains("locked by another writer", Assert.Throws<StorageException>(() => HammingDatabase.Check(dir)).Message, StringComparison.Ordinal);
            }
            Assert.Throws<StorageException>(() => HammingDatabase.Check(dir + "-absent")); // not a directory: an error, not a report
            Assert.False(Directory.Exists(dir + "-absent"));
            Dictionary<string, byte[]> before = SnapshotDirectory(dir);
            CheckReport report = HammingDatabase.Check(dir);
            AssertUnchanged(before, SnapshotDirectory(dir), "on disk, key index included");
            Assert.True(report.Ok, string.Join('\n', report.Problems));
            Assert.Empty(report.Problems);
            Assert.Equal(5000 + 1, report.RowsChecked); // segment 2 (its bitmap deletes key 10), one upsert in the log

            // A wrong entry planted in FASTER itself, checkpointed at the manifest's version.
            long version = ManifestStore.Read(PosixFileSystem.Instance, dir)!.Version;
            using (FasterKeyIndex index = FasterKeyIndex.Open(Path.Combine(dir, "keyindex")))
            {
                Assert.Equal(version, index.Version);
                index.Upsert(1, Key(20), new RowLocation(2, 21));
                index.Delete(1, Key(30));
                index.Checkpoint(version);
            }
            before = SnapshotDirectory(dir);
            report = HammingDatabase.Check(dir);
            AssertUnchanged(before, SnapshotDirectory(dir), "on disk, planted");
            foreach (CheckProblem problem in report.Problems)
            {
                output.WriteLine(problem.ToString());
            }
            Assert.Contains(report.Problems, p => p.Severity == CheckSeverity.Damage && p.File == Path.Combine(dir, "keyindex")
                && p.Problem == "key 20 of collection 'a' points at row 21 of segment 2; its live row is row 20 of segment 2");
            Assert.Contains(report.Problems, p => p.Severity == CheckSeverity.Damage && p.Problem.StartsWith("key 30 of collection 'a' has no entry", StringComparison.Ordinal));
            Assert.Equal(3, report.Problems.Count); // and key 20's entry, seen from the index side
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
        }
    }

    private static Dictionary<string, byte[]> SnapshotDirectory(string directory) =>
        Directory.GetFiles(directory, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(directory, f), File.ReadAllBytes);
}
