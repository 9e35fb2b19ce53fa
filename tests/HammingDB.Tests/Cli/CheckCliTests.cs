using System.Text.Json;
using HammingDB.Cli;
using Xunit.Abstractions;

namespace HammingDB.Tests.Cli;

/// <summary><c>hdb check</c>: exit 0 on a sound database, 4 with file and offset on damage, 3 when locked, 2 on bad usage.</summary>
public sealed class CheckCliTests(ITestOutputHelper output) : CliHarness(output)
{
    private string Build()
    {
        string db = PathOf("db");
        Ok("create", db, "--bits", "64");
        var lines = string.Join('\n', Enumerable.Range(0, 3000).Select(i => $"{i}\t{(ulong)i * 0x9E3779B97F4A7C15UL:x16}"));
        Ok(Utf8(lines), "ingest", db, "-", "--format", "hex", "--progress", "none", "--seal-rows", "1000");
        return db;
    }

    [Fact]
    public void A_sound_database_checks_ok_and_a_flipped_byte_in_a_segment_is_damage_named_with_file_and_offset()
    {
        string db = Build();
        HdbResult clean = Ok("check", db);
        JsonElement summary = JsonDocument.Parse(clean.Stdout.TrimEnd().Split('\n')[^1]).RootElement;
        Assert.True(summary.GetProperty("ok").GetBoolean());
        Assert.Equal(0, summary.GetProperty("damage").GetInt32());
        Assert.True(summary.GetProperty("rows").GetInt64() >= 3000);

        string segment = Directory.GetFiles(db, "seg-*.hdbs").Order(StringComparer.Ordinal).First();
        byte[] bytes = File.ReadAllBytes(segment);
        const int at = 4096 + 100; // inside the codes
        bytes[at] ^= 0x10;
        File.WriteAllBytes(segment, bytes);
        HdbResult damaged = Hdb("check", db);
        Assert.Equal(ExitCodes.Damaged, damaged.Exit);
        JsonElement[] problems = damaged.Stdout.TrimEnd().Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        JsonElement damage = problems.First(p => p.TryGetProperty("severity", out JsonElement s) && s.GetString() == "damage");
        Assert.Equal(segment, damage.GetProperty("file").GetString());
        Assert.True(damage.GetProperty("offset").GetInt64() is >= 0 and <= at, damage.ToString());
        Assert.False(problems[^1].GetProperty("ok").GetBoolean());
        Assert.Contains(Path.GetFileName(segment), damaged.Stderr, StringComparison.Ordinal);
        // check changed nothing.
        Assert.Equal(bytes, File.ReadAllBytes(segment));
    }

    [Fact]
    public void Check_of_a_database_open_for_writing_exits_3_and_of_a_missing_directory_exits_2()
    {
        string db = Build();
        using (HammingDatabase.Open(db))
        {
            HdbResult locked = Hdb("check", db);
            Assert.Equal(ExitCodes.StorageError, locked.Exit);
        }
        Bad(null, "check", PathOf("nowhere"));
    }
}
