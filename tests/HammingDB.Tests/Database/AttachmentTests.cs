using HammingDB.Storage;
using HammingDB.Storage.Keys;
using HammingDB.Storage.Manifest;
using Xunit.Abstractions;

namespace HammingDB.Tests.Database;

/// <summary>Collection attachments: durable, checksummed, named blobs kept through the manifest.</summary>
public class AttachmentTests(ITestOutputHelper output)
{
    private const string Dir = "/db";

    private static byte[] Blob(int seed, int length)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static List<string> AttachmentFiles(MemoryFileSystem fs) => fs.ListFiles(Dir).Where(n => FileNames.TryParseAttachment(n, out _)).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void Set_get_replace_and_remove_survive_reopens()
    {
        var fs = new MemoryFileSystem();
        var keys = new MemoryKeyIndexStore();
        byte[] first = Blob(1, 1000), second = Blob(2, 70_000), other = Blob(3, 0);
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, DatabaseOptions.Default, keys))
        {
            HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
            HammingCollection<string> names = db.CreateCollection<string>("names", new CollectionOptions { CodeBits = 8 });
            Assert.Empty(items.AttachmentNames);
            Assert.Null(items.GetAttachment("encoder"));
            items.Upsert(1, [5UL]);
            items.SetAttachment("encoder", first);
            items.SetAttachment("a.notes", other);
            names.SetAttachment("encoder", second); // names are per collection
            Assert.Equal(["a.notes", "encoder"], items.AttachmentNames);
            Assert.Equal(first, items.GetAttachment("encoder"));
            Assert.Equal(second, names.GetAttachment("encoder"));
            Assert.Empty(items.GetAttachment("a.notes")!);
        }
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, DatabaseOptions.Default, keys))
        {
            HammingCollection<ulong> items = db.GetCollection<ulong>("items");
            Assert.Equal(["a.notes", "encoder"], items.AttachmentNames);
            Assert.Equal(first, items.GetAttachment("encoder"));
            Assert.Equal(second, db.GetCollection<string>("names").GetAttachment("encoder"));
            Assert.True(items.TryGet(1, out _));
            Assert.Equal(3, AttachmentFiles(fs).Count);

            // Replace: the old version's file goes once the manifest names the new one.
            items.SetAttachment("encoder", second);
            Assert.Equal(second, items.GetAttachment("encoder"));
            Assert.Equal(3, AttachmentFiles(fs).Count);
            Assert.True(items.RemoveAttachment("a.notes"));
            Assert.False(items.RemoveAttachment("a.notes"));
            Assert.Equal(["encoder"], items.AttachmentNames);
            Assert.Equal(2, AttachmentFiles(fs).Count);
            // Seals and compactions keep the attachments.
            items.Upsert(2, [6UL]);
            db.Flush();
            items.Upsert(3, [7UL]);
            db.Flush();
            db.Compact();
        }
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, DatabaseOptions.Default, keys))
        {
            HammingCollection<ulong> items = db.GetCollection<ulong>("items");
            Assert.Equal(["encoder"], items.AttachmentNames);
            Assert.Equal(second, items.GetAttachment("encoder"));
            Assert.Equal(3, items.Count);
        }
        Assert.True(HammingDatabase.Check(fs, Dir, keys).Ok);
    }

    [Fact]
    public void Bad_names_and_sizes_are_refused_and_nothing_is_written()
    {
        var fs = new MemoryFileSystem();
        using HammingDatabase db = HammingDatabase.Open(fs, Dir, DatabaseOptions.Default, new MemoryKeyIndexStore());
        HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
        ManifestState before = ManifestStore.Read(fs, Dir)!;
        List<string> files = fs.ListFiles(Dir).ToList();
        foreach (string name in new[] { "", "Encoder", "a b", "a/b", "../x", new string('a', 65), "é" })
        {
            Assert.Equal("name", Assert.Throws<ArgumentException>(() => items.SetAttachment(name, [1])).ParamName);
            Assert.Equal("name", Assert.Throws<ArgumentException>(() => items.GetAttachment(name)).ParamName);
            Assert.Equal("name", Assert.Throws<ArgumentException>(() => items.RemoveAttachment(name)).ParamName);
        }
        Assert.Throws<ArgumentNullException>(() => items.SetAttachment(null!, [1]));
        ArgumentException tooBig = Assert.Throws<ArgumentException>(() => items.SetAttachment("big", new byte[(64 << 20) + 1]));
        Assert.Equal("content", tooBig.ParamName);
        Assert.Equal(before.Version, ManifestStore.Read(fs, Dir)!.Version);
        Assert.Equal(files, fs.ListFiles(Dir));
        Assert.Empty(items.AttachmentNames);
        items.SetAttachment(new string('z', 64), new byte[64 << 20]);
        Assert.Equal(64 << 20, items.GetAttachment(new string('z', 64))!.Length);
    }

    [Fact]
    public void A_damaged_attachment_leaves_open_and_codes_working_and_is_reported_by_name()
    {
        var fs = new MemoryFileSystem();
        var keys = new MemoryKeyIndexStore();
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, DatabaseOptions.Default, keys))
        {
            HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
            items.Upsert(1, [5UL]);
            items.SetAttachment("encoder", Blob(4, 500));
            items.SetAttachment("fine", Blob(5, 10));
        }
        ManifestState manifest = ManifestStore.Read(fs, Dir)!;
        long number = manifest.Collections[0].Attachments.Single(a => a.Name == "encoder").FileNumber;
        string path = Path.Combine(Dir, FileNames.Attachment(number));
        byte[] bytes = fs.ReadAllBytes(path);
        bytes[200] ^= 0x10;
        fs.Replace(path, bytes);

        CheckReport report = HammingDatabase.Check(fs, Dir, keys);
        output.WriteLine(string.Join("\n", report.Problems));
        Assert.False(report.Ok);
        Assert.Equal(path, Assert.Single(report.Problems, p => p.Severity == CheckSeverity.Damage).File);

        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, DatabaseOptions.Default, keys))
        {
            HammingCollection<ulong> items = db.GetCollection<ulong>("items");
            Assert.Equal(1UL, items.Knn([5UL], 1).Single().Key);
            Assert.Equal(path, Assert.Throws<CorruptionException>(() => items.GetAttachment("encoder")).FilePath);
            Assert.Equal(Blob(5, 10), items.GetAttachment("fine"));
            // Replacing it repairs it.
            items.SetAttachment("encoder", Blob(6, 20));
            Assert.Equal(Blob(6, 20), items.GetAttachment("encoder"));
        }
        Assert.True(HammingDatabase.Check(fs, Dir, keys).Ok);

        // A missing file is damage too, and reported as missing.
        manifest = ManifestStore.Read(fs, Dir)!;
        number = manifest.Collections[0].Attachments.Single(a => a.Name == "encoder").FileNumber;
        path = Path.Combine(Dir, FileNames.Attachment(number));
        fs.Delete(path);
        report = HammingDatabase.Check(fs, Dir, keys);
        Assert.Contains(report.Problems, p => p.Severity == CheckSeverity.Damage && p.File == path && p.Problem.Contains("missing", StringComparison.Ordinal));
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, DatabaseOptions.Default, keys))
        {
            Assert.Equal(path, Assert.Throws<CorruptionException>(() => db.GetCollection<ulong>("items").GetAttachment("encoder")).FilePath);
        }
    }

    [Fact]
    public void Attachment_files_the_manifest_does_not_name_are_removed_at_open_and_refused_without_a_manifest()
    {
        var fs = new MemoryFileSystem();
        var keys = new MemoryKeyIndexStore();
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, DatabaseOptions.Default, keys))
        {
            db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 }).SetAttachment("encoder", [1, 2, 3]);
        }
        HammingDB.Storage.Attachments.AttachmentFile.Write(fs, Dir, 500, 1, "stray", [9]);
        fs.Create(Path.Combine(Dir, FileNames.Temp(FileNames.Attachment(501)))).Dispose();
        CheckReport report = HammingDatabase.Check(fs, Dir, keys);
        Assert.True(report.Ok);
        Assert.Equal(2, report.Problems.Count(p => p.Problem.Contains("not named by the manifest", StringComparison.Ordinal)));
        using (HammingDatabase db = HammingDatabase.Open(fs, Dir, DatabaseOptions.Default, keys))
        {
            Assert.Equal([1, 2, 3], db.GetCollection<ulong>("items").GetAttachment("encoder"));
        }
        Assert.Single(AttachmentFiles(fs));
        Assert.DoesNotContain(fs.ListFiles(Dir), FileNames.IsTemp);

        fs.Delete(Path.Combine(Dir, FileNames.Manifest));
        Assert.Contains("att-", Assert.Throws<CorruptionException>(() => HammingDatabase.Open(fs, Dir, DatabaseOptions.Default, keys)).Message);
    }

    /// <summary>
    /// A fault at the N-th create, write, sync, rename or directory sync during attachment changes, for every N, then a power
    /// loss keeping only synced bytes: an acknowledged change is there; an interrupted one left the old content or the new,
    /// never neither (and never a damaged one); the database opens, Check is clean, and it goes on working.
    /// </summary>
    [Theory]
    [InlineData("create", 0)]
    [InlineData("write", 1)]
    [InlineData("sync", 2)]
    [InlineData("rename", 3)]
    [InlineData("syncdir", 4)]
    public void Every_fault_then_power_loss_keeps_the_old_or_the_new_attachment(string kind, int kindIndex)
    {
        var options = new DatabaseOptions { SealRows = 5, BackgroundCompaction = false };
        int faults = 0;
        for (int failAt = 1; failAt <= 30; failAt++)
        {
            int seed = kindIndex * 1000 + failAt;
            var random = new Random(seed);
            var fs = new MemoryFileSystem();
            var keys = new MemoryKeyIndexStore();
            var model = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            (string Name, byte[]? Before, byte[]? After)? unsure = null;
            string[] names = ["encoder", "notes", "x"];

            HammingDatabase db = HammingDatabase.Open(fs, Dir, options, keys);
            HammingCollection<ulong> items = db.CreateCollection<ulong>("items", new CollectionOptions { CodeBits = 64 });
            fs.FailOn(kind, failAt);
            for (int step = 0; step < 40; step++)
            {
                string name = names[random.Next(names.Length)];
                byte[] content = Blob(random.Next(), random.Next(0, 3000));
                int action = random.Next(10);
                byte[]? before = model.GetValueOrDefault(name);
                try
                {
                    if (action < 6)
                    {
                        items.SetAttachment(name, content);
                        model[name] = content;
                    }
                    else if (action < 8)
                    {
                        Assert.Equal(before is not null, items.RemoveAttachment(name));
                        model.Remove(name);
                    }
                    else
                    {
                        items.Upsert((ulong)step, [(ulong)step]);
                        if (action == 9)
                        {
                            db.Flush();
                        }
                    }
                }
                catch (StorageException)
                {
                    unsure = action < 8 ? (name, before, action < 6 ? content : null) : null;
                    faults++;
                    break;
                }
            }
            fs.Disarm();
            fs.Crash(new Random(seed));
            CheckReport report = HammingDatabase.Check(fs, Dir, keys);
            Assert.True(report.Ok, $"seed {seed} ({kind} #{failAt}): {string.Join("; ", report.Problems)}");
            using (HammingDatabase reopened = HammingDatabase.Open(fs, Dir, options, keys))
            {
                HammingCollection<ulong> recovered = reopened.GetCollection<ulong>("items");
                foreach (string name in names)
                {
                    byte[]? actual = recovered.GetAttachment(name);
                    if (unsure is { } u && u.Name == name)
                    {
                        Assert.True(Same(actual, u.Before) || Same(actual, u.After), $"seed {seed} ({kind} #{failAt}): '{name}' is neither the old nor the new content");
                        continue;
                    }
                    Assert.True(Same(model.GetValueOrDefault(name), actual), $"seed {seed} ({kind} #{failAt}): '{name}' is not as acknowledged");
                }
                recovered.SetAttachment("after", [1]);
                Assert.Equal([1], recovered.GetAttachment("after"));
            }
            Assert.True(HammingDatabase.Check(fs, Dir, keys).Ok);
        }
        output.WriteLine($"{kind}: {faults} runs hit their fault");
        Assert.True(faults > 0, $"no run hit a {kind} fault");
    }

    private static bool Same(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}
