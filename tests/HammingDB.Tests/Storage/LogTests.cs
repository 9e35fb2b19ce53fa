using System.Text;
using HammingDB.Storage;
using HammingDB.Storage.Log;
using Xunit.Abstractions;

namespace HammingDB.Tests.Storage;

public class LogTests(ITestOutputHelper output)
{
    private const string Dir = "/db";

    private static string LogPath(long number) => Path.Combine(Dir, FileNames.Log(number));

    private static byte[] Payload(int i) => Encoding.UTF8.GetBytes($"record {i}: " + new string((char)('a' + i % 26), i % 37));

    [Fact]
    public void Golden_bytes_of_a_log_with_two_records()
    {
        var fs = new MemoryFileSystem();
        using (LogWriter writer = LogWriter.Create(fs, Dir, 7))
        {
            writer.Append(1, "abc"u8);
            writer.Append(2, []);
        }
        // header: magic, version 2, reserved, number 7, reserved, CRC-32C of bytes 0..27;
        // records: CRC-32C of (length, type, synced, payload), length, type, synced, payload.
        // synced: 32 (the header) when the first was queued, 52 (the first record too) for the second.
        const string expected =
            "4844425741 4c4f47 02000000 00000000 0700000000000000 00000000 30b820a5" +
            "36c8f78d 03000000 01 2000000000000000 616263" +
            "c591a1f9 00000000 02 3400000000000000";
        string actual = Convert.ToHexString(fs.ReadAllBytes(LogPath(7))).ToLowerInvariant();
        output.WriteLine(actual);
        Assert.Equal(expected.Replace(" ", "", StringComparison.Ordinal), actual);
    }

    [Fact]
    public void Records_read_back_in_order()
    {
        var fs = new MemoryFileSystem();
        using (LogWriter writer = LogWriter.Create(fs, Dir, 1))
        {
            for (int i = 0; i < 50; i++)
            {
                Assert.Equal(i + 1, writer.Append((byte)(1 + i % 3), Payload(i)));
            }
        }
        using IStorageFile file = fs.Open(LogPath(1), writable: false);
        LogContents contents = LogReader.Read(file);
        Assert.Equal(1, contents.Number);
        Assert.Null(contents.TailProblem);
        Assert.Equal(file.Length, contents.ValidLength);
        Assert.Equal(50, contents.Records.Count);
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal((byte)(1 + i % 3), contents.Records[i].Type);
            Assert.Equal(Payload(i), contents.Records[i].Payload.ToArray());
        }
    }

    [Fact]
    public void Every_truncation_keeps_exactly_the_whole_records_before_it()
    {
        var fs = new MemoryFileSystem();
        var ends = new List<long>();
        using (LogWriter writer = LogWriter.Create(fs, Dir, 1))
        {
            for (int i = 0; i < 4; i++)
            {
                writer.Append(1, Payload(i + 10));
                ends.Add(writer.Length);
            }
        }
        byte[] whole = fs.ReadAllBytes(LogPath(1));
        for (int cut = LogFormat.HeaderBytes; cut <= whole.Length; cut++)
        {
            fs.Replace(LogPath(1), whole[..cut]);
            using IStorageFile file = fs.Open(LogPath(1), writable: false);
            LogContents contents = LogReader.Read(file);
            int complete = ends.Count(end => end <= cut);
            Assert.Equal(complete, contents.Records.Count);
            Assert.Equal(complete == 0 ? LogFormat.HeaderBytes : ends[complete - 1], contents.ValidLength);
            Assert.Equal(contents.ValidLength == cut, contents.TailProblem is null);
        }
    }

    [Fact]
    public void A_flipped_bit_in_a_record_ends_the_valid_prefix_there_and_never_yields_a_wrong_record()
    {
        var fs = new MemoryFileSystem();
        var offsets = new List<long> { LogFormat.HeaderBytes };
        using (LogWriter writer = LogWriter.Create(fs, Dir, 1))
        {
            for (int i = 0; i < 3; i++)
            {
                writer.Append(1, Payload(i + 3));
                offsets.Add(writer.Length);
            }
        }
        byte[] whole = fs.ReadAllBytes(LogPath(1));
        for (int bit = LogFormat.HeaderBytes * 8; bit < whole.Length * 8; bit++)
        {
            byte[] damaged = whole.ToArray();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            fs.Replace(LogPath(1), damaged);
            using IStorageFile file = fs.Open(LogPath(1), writable: false);
            LogContents contents = LogReader.Read(file);
            int damagedRecord = offsets.FindLastIndex(o => o <= bit / 8);
            Assert.Equal(damagedRecord, contents.Records.Count);
            for (int i = 0; i < contents.Records.Count; i++)
            {
                Assert.Equal(Payload(i + 3), contents.Records[i].Payload.ToArray());
            }
            Assert.NotNull(contents.TailProblem);
            // Damage before the last record is told from a torn tail: the next whole record is found.
            long? next = LogReader.FindRecordAfter(file, contents.ValidLength, (_, _) => true);
            Assert.Equal(damagedRecord < 2 ? offsets[damagedRecord + 1] : null, next);
        }
    }

    [Fact]
    public void Whole_records_of_the_same_unsynced_group_after_a_bad_one_are_a_torn_tail_and_a_later_group_proves_damage()
    {
        var fs = new MemoryFileSystem();
        byte[] oneGroup;
        using (LogWriter writer = LogWriter.Create(fs, Dir, 1))
        {
            // Three records queued before any flush: one write, one sync (group commit).
            writer.Enqueue(1, Payload(30));
            writer.Enqueue(1, Payload(31));
            writer.WaitDurable(writer.Enqueue(1, Payload(32)));
            Assert.Equal(1, writer.Syncs);
            oneGroup = fs.ReadAllBytes(LogPath(1));
            writer.Append(1, Payload(33));
        }
        byte[] twoGroups = fs.ReadAllBytes(LogPath(1));
        long first = LogFormat.HeaderBytes;
        long second = first + LogFormat.RecordHeaderBytes + Payload(30).Length;
        foreach ((byte[] log, bool damage) in new[] { (oneGroup, false), (twoGroups, true) })
        {
            // The second record's payload is lost (a crash kept a later page of the write, not this one).
            byte[] bytes = log.ToArray();
            bytes[second + LogFormat.RecordHeaderBytes] ^= 0xFF;
            fs.Replace(LogPath(1), bytes);
            using IStorageFile file = fs.Open(LogPath(1), writable: false);
            LogContents contents = LogReader.Read(file);
            Assert.Equal(second, contents.ValidLength);
            long? proof = LogReader.FindRecordAfter(file, contents.ValidLength, (_, _) => true);
            // One group: the third record is whole but was queued with the second, unsynced: a torn tail.
            // Two groups: the fourth was queued after the first group was synced: damage.
            Assert.Equal(damage, proof is not null);
        }
    }

    [Fact]
    public void No_whole_record_follows_a_torn_tail_and_the_filter_is_asked_first()
    {
        var fs = new MemoryFileSystem();
        using (LogWriter writer = LogWriter.Create(fs, Dir, 1))
        {
            for (int i = 0; i < 4; i++)
            {
                writer.Append(1, Payload(i + 20));
            }
        }
        byte[] whole = fs.ReadAllBytes(LogPath(1));
        for (int cut = LogFormat.HeaderBytes; cut < whole.Length; cut++)
        {
            fs.Replace(LogPath(1), whole[..cut]);
            using IStorageFile file = fs.Open(LogPath(1), writable: false);
            LogContents contents = LogReader.Read(file);
            Assert.Null(LogReader.FindRecordAfter(file, contents.ValidLength, (_, _) => true));
        }
        // Zero the second record's type: the third is found, unless the filter rules out its type.
        byte[] damaged = whole.ToArray();
        long second = LogFormat.HeaderBytes + LogFormat.RecordHeaderBytes + Payload(20).Length;
        damaged[second + 8] = 0;
        fs.Replace(LogPath(1), damaged);
        using IStorageFile damagedFile = fs.Open(LogPath(1), writable: false);
        Assert.Equal(second, LogReader.Read(damagedFile).ValidLength);
        Assert.Equal(second + LogFormat.RecordHeaderBytes + Payload(21).Length, LogReader.FindRecordAfter(damagedFile, second, (type, start) => type == 1 && start.StartsWith("record 22"u8)));
        Assert.Null(LogReader.FindRecordAfter(damagedFile, second, (type, _) => type == 2));
    }

    [Fact]
    public void A_damaged_header_is_corruption_naming_file_and_offset()
    {
        var fs = new MemoryFileSystem();
        LogWriter.Create(fs, Dir, 3).Dispose();
        byte[] whole = fs.ReadAllBytes(LogPath(3));
        foreach (int at in new[] { 0, 9, 17, 30 })
        {
            byte[] damaged = whole.ToArray();
            damaged[at] ^= 0x10;
            fs.Replace(LogPath(3), damaged);
            using IStorageFile file = fs.Open(LogPath(3), writable: false);
            var e = Assert.Throws<CorruptionException>(() => LogReader.Read(file));
            Assert.Equal(LogPath(3), e.FilePath);
            Assert.Contains(LogPath(3), e.Message, StringComparison.Ordinal);
        }
        fs.Replace(LogPath(3), whole[..20]);
        using IStorageFile shortFile = fs.Open(LogPath(3), writable: false);
        Assert.Equal(20, Assert.Throws<CorruptionException>(() => LogReader.Read(shortFile)).Offset);
    }

    [Fact]
    public void Reopen_cuts_a_torn_tail_and_appends_after_the_valid_prefix()
    {
        var fs = new MemoryFileSystem();
        using (LogWriter writer = LogWriter.Create(fs, Dir, 1))
        {
            writer.Append(1, Payload(1));
            writer.Append(1, Payload(2));
        }
        byte[] torn = fs.ReadAllBytes(LogPath(1)).Concat(new byte[] { 0x12, 0x34, 0x56, 0, 0, 0, 9 }).ToArray();
        fs.Replace(LogPath(1), torn);
        LogContents recovered;
        using (IStorageFile file = fs.Open(LogPath(1), writable: false))
        {
            recovered = LogReader.Read(file);
        }
        Assert.Equal(2, recovered.Records.Count);
        using (LogWriter writer = LogWriter.Reopen(fs, LogPath(1), recovered))
        {
            Assert.Equal(recovered.ValidLength, writer.Length);
            writer.Append(2, Payload(3));
        }
        using IStorageFile again = fs.Open(LogPath(1), writable: false);
        LogContents contents = LogReader.Read(again);
        Assert.Null(contents.TailProblem);
        Assert.Equal([Payload(1), Payload(2), Payload(3)], contents.Records.Select(r => r.Payload.ToArray()));
    }

    [Fact]
    public void Concurrent_appends_share_syncs_and_all_arrive()
    {
        var fs = new MemoryFileSystem { SyncDelay = TimeSpan.FromMilliseconds(2) };
        const int threads = 8, perThread = 60;
        using LogWriter writer = LogWriter.Create(fs, Dir, 1);
        // Dedicated threads: the pool would start only as many as there are cores.
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            for (int i = 0; i < perThread; i++)
            {
                writer.Append(1, Encoding.UTF8.GetBytes($"{t}:{i}"));
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        output.WriteLine($"{threads * perThread} records, {writer.Syncs} syncs");
        Assert.True(writer.Syncs < threads * perThread, $"group commit should share syncs: {writer.Syncs} syncs for {threads * perThread} records");
        using IStorageFile file = fs.Open(LogPath(1), writable: false);
        var seen = LogReader.Read(file).Records.Select(r => Encoding.UTF8.GetString(r.Payload.Span)).ToList();
        Assert.Equal(threads * perThread, seen.Count);
        for (int t = 0; t < threads; t++)
        {
            // Each thread's records appear in its own order.
            Assert.Equal(Enumerable.Range(0, perThread).Select(i => $"{t}:{i}"), seen.Where(s => s.StartsWith($"{t}:", StringComparison.Ordinal)));
        }
    }

    [Theory]
    [InlineData("sync")]
    [InlineData("write")]
    public void A_failed_write_or_sync_stops_the_writer_and_no_acknowledged_record_is_lost(string kind)
    {
        for (int failAt = 1; failAt <= 4; failAt++)
        {
            var fs = new MemoryFileSystem();
            var acknowledged = new List<byte[]>();
            using (LogWriter writer = LogWriter.Create(fs, Dir, 1))
            {
                fs.FailOn(kind, failAt);
                int i = 0;
                for (; i < 6; i++)
                {
                    try
                    {
                        writer.Append(1, Payload(i));
                        acknowledged.Add(Payload(i));
                    }
                    catch (StorageException e)
                    {
                        Assert.Contains("injected failure", e.ToString(), StringComparison.Ordinal);
                        break;
                    }
                }
                Assert.Equal(failAt - 1, acknowledged.Count);
                // Fail-stop: the fault was once only, yet the writer refuses everything after it.
                var later = Assert.Throws<StorageException>(() => writer.Append(1, Payload(99)));
                Assert.Contains("stopped", later.Message, StringComparison.Ordinal);
            }
            fs.Crash();
            using IStorageFile file = fs.Open(LogPath(1), writable: false);
            LogContents contents = LogReader.Read(file);
            Assert.Equal(acknowledged, contents.Records.Select(r => r.Payload.ToArray()));
        }
    }

    [Fact]
    public void A_crash_before_the_directory_sync_leaves_no_log_and_after_it_an_empty_one()
    {
        var fs = new MemoryFileSystem();
        fs.FailOn("syncdir", 1);
        Assert.Throws<StorageException>(() => LogWriter.Create(fs, Dir, 5));
        fs.Crash();
        Assert.False(fs.FileExists(LogPath(5)));

        LogWriter.Create(fs, Dir, 6).Dispose();
        fs.Crash();
        using IStorageFile file = fs.Open(LogPath(6), writable: false);
        Assert.Empty(LogReader.Read(file).Records);
    }

    [Fact]
    public void Bad_arguments_are_refused_before_anything_is_written()
    {
        var fs = new MemoryFileSystem();
        using LogWriter writer = LogWriter.Create(fs, Dir, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Append(0, "x"u8));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Append(1, new byte[LogFormat.MaxPayloadBytes + 1]));
        Assert.Equal(LogFormat.HeaderBytes, fs.ReadAllBytes(LogPath(1)).Length);
    }
}
