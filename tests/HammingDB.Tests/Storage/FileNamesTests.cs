using HammingDB.Storage;

namespace HammingDB.Tests.Storage;

public class FileNamesTests
{
    [Fact]
    public void Log_names_round_trip_and_strangers_are_not_logs()
    {
        foreach (long n in new long[] { 1, 42, 9_999_999_999 })
        {
            Assert.True(FileNames.TryParseLog(FileNames.Log(n), out long parsed));
            Assert.Equal(n, parsed);
        }
        Assert.Equal("wal-0000000042.log", FileNames.Log(42));
        foreach (string name in new[] { "wal-42.log", "wal-0000000000.log", "wal-00000000x1.log", "wal-0000000001.log.tmp", "LOCK", "seg-0000000001.hdbs" })
        {
            Assert.False(FileNames.TryParseLog(name, out _), name);
        }
        Assert.True(FileNames.IsTemp(FileNames.Temp(FileNames.Log(3))));
        Assert.Throws<ArgumentOutOfRangeException>(() => FileNames.Log(0));
    }
}
