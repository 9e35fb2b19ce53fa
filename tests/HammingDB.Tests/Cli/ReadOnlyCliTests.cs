using HammingDB.Cli;
using HammingDB.Tests.Faults;
using Xunit.Abstractions;

namespace HammingDB.Tests.Cli;

/// <summary>
/// The commands that only read (query, explain, get, stats, export, check) open the database read-only: they change no
/// file (no seal at close, no log cut), work on a read-only mount, and exit 3 while a writer has the database open.
/// Write commands on a read-only mount exit 3 with a message that says so.
/// </summary>
public sealed class ReadOnlyCliTests(ITestOutputHelper output) : CliHarness(output)
{
    private const int Seed = 77;

    // 3,000 rows sealed in segments by ingest, then 60 more upserts and 5 deletes only in the log (not sealed at close).
    private string Build()
    {
        Output.WriteLine($"seed {Seed}");
        string db = PathOf("db");
        Ok("create", db, "--bits", "64");
        var random = new Random(Seed);
        string lines = string.Join('\n', Enumerable.Range(0, 3000).Select(i => $"{i}\t{(ulong)random.NextInt64():x16}"));
        Ok(Utf8(lines), "ingest", db, "-", "--format", "hex", "--progress", "none", "--seal-rows", "1000");
        using HammingDatabase writer = HammingDatabase.Open(db, new DatabaseOptions { SealOnClose = false, BackgroundCompaction = false });
        HammingCollection<ulong> codes = writer.GetCollection<ulong>("default");
        for (ulong key = 2990; key < 3050; key++)
        {
            codes.Upsert(key, [(ulong)random.NextInt64()]);
        }
        for (ulong key = 0; key < 5; key++)
        {
            Assert.True(codes.Delete(key));
        }
        return db;
    }

    [Fact]
    public void Read_commands_answer_over_the_unsealed_rows_and_change_no_file()
    {
        string db = Build();
        List<string> before = DirectorySnapshot.Take(db);
        byte[] queries = Utf8("0123456789abcdef\nfedcba9876543210\n");
        string knn = Ok(queries, "query", db, "--format", "hex", "--k", "5").Stdout;
        Ok(queries, "query", db, "--format", "hex", "--radius", "20");
        Ok(queries, "explain", db, "--format", "hex", "--k", "5");
        string got = Ok("get", db, "3040", "2", "7").Stdout;
        long rows = Rows(db);
        string exported = Ok("export", db, "--format", "ndjson").Stdout;
        Ok("check", db);
        Assert.Equal(before, DirectorySnapshot.Take(db));

        // They answered over the rows only in the log: 3,050 keys less 5 deleted.
        Assert.Equal(3045, rows);
        Assert.Equal(3045, exported.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("3040", got, StringComparison.Ordinal);
        Assert.Equal(2, JsonLines(knn).Count(line => line.GetProperty("results").GetArrayLength() == 5));

        // A writable session (here: delete) still seals and cuts as before: the directory changes.
        Ok("delete", db, "10");
        Assert.NotEqual(before, DirectorySnapshot.Take(db));
        Assert.Equal(3044, Rows(db));
    }

    [Fact]
    public void A_read_command_beside_a_writer_exits_3_saying_the_database_is_locked()
    {
        string db = Build();
        using (HammingDatabase.Open(db))
        {
            HdbResult query = Hdb(Utf8("0123456789abcdef\n"), "query", db, "--format", "hex", "--k", "5");
            Assert.Equal(ExitCodes.StorageError, query.Exit);
            Assert.Contains("locked by another writer", query.Stderr, StringComparison.Ordinal);
            Assert.Equal(ExitCodes.StorageError, Hdb("stats", db).Exit);
        }
        Assert.Equal(3045, Rows(db));
    }

    [Fact]
    public void On_a_read_only_mount_read_commands_work_and_write_commands_exit_3_with_a_clear_message()
    {
        string db = Build();
        using MountedDirectory? mount = MountedDirectory.TryBindReadOnly(db, Output);
        if (mount is null)
        {
            return; // skipped, the reason printed
        }
        string ro = mount.Path;
        List<string> before = DirectorySnapshot.Take(ro);
        byte[] queries = Utf8("0123456789abcdef\n");
        Assert.Equal(Ok(queries, "query", db, "--format", "hex", "--k", "5").Stdout, Ok(queries, "query", ro, "--format", "hex", "--k", "5").Stdout);
        Ok(queries, "explain", ro, "--format", "hex", "--radius", "12");
        Ok("get", ro, "3040");
        Assert.Equal(3045, Rows(ro));
        Ok("export", ro, "--format", "ndjson");
        Ok("check", ro);
        foreach (string[] write in (string[][])[["delete", ro, "10"], ["compact", ro], ["ingest", ro, "-", "--format", "hex", "--progress", "none"]])
        {
            HdbResult refused = Hdb(Utf8("99999\t00000000000000ff\n"), write);
            Assert.Equal(ExitCodes.StorageError, refused.Exit);
            Assert.Contains("read-only file system", refused.Stderr, StringComparison.Ordinal);
        }
        Assert.Equal(before, DirectorySnapshot.Take(ro));
    }
}
