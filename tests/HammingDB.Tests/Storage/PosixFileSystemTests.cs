using System.Text;
using HammingDB.Storage;
using HammingDB.Storage.Log;

namespace HammingDB.Tests.Storage;

public sealed class PosixFileSystemTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hdb-posix-").FullName;
    private readonly PosixFileSystem _fs = PosixFileSystem.Instance;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_log_written_and_synced_on_disk_reads_back()
    {
        using (LogWriter writer = LogWriter.Create(_fs, _dir, 1))
        {
            writer.Append(1, "first"u8);
            writer.Append(2, "second"u8);
        }
        Assert.Equal([FileNames.Log(1)], _fs.ListFiles(_dir));
        using IStorageFile file = _fs.Open(Path.Combine(_dir, FileNames.Log(1)), writable: false);
        LogContents contents = LogReader.Read(file);
        Assert.Equal(["first", "second"], contents.Records.Select(r => Encoding.UTF8.GetString(r.Payload.Span)));
    }

    [Fact]
    public void The_writer_lock_admits_one_holder_at_a_time()
    {
        string lockPath = Path.Combine(_dir, FileNames.Lock);
        IDisposable first = _fs.LockExclusive(lockPath);
        var e = Assert.Throws<StorageException>(() => _fs.LockExclusive(lockPath));
        Assert.Contains("locked by another writer", e.Message, StringComparison.Ordinal);
        first.Dispose();
        _fs.LockExclusive(lockPath).Dispose();
    }

    [Fact]
    public void Failures_name_the_path_and_the_system_error()
    {
        string missing = Path.Combine(_dir, "no-such-dir");
        var e = Assert.Throws<StorageException>(() => _fs.SyncDirectory(missing));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        Assert.Contains("errno", e.Message, StringComparison.Ordinal);
        Assert.Throws<StorageException>(() => _fs.Open(Path.Combine(_dir, "absent"), writable: false));
        string existing = Path.Combine(_dir, "x");
        _fs.Create(existing).Dispose();
        Assert.Throws<StorageException>(() => _fs.Create(existing));
    }
}
