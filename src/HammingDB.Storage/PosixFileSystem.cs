using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace HammingDB.Storage;

/// <summary>
/// The real file system (Linux). fsync goes through P/Invoke and its result is checked, because
/// .NET's own flush swallows fsync errors on Linux (DEPENDENCIES.md); directories are synced by
/// open(O_DIRECTORY) + fsync, which .NET cannot do; the writer lock is a flock of our own, which
/// DOTNET_SYSTEM_IO_DISABLEFILELOCKING cannot turn off.
/// </summary>
internal sealed partial class PosixFileSystem : IFileSystem
{
    public static PosixFileSystem Instance { get; } = new();

    private PosixFileSystem()
    {
    }

    public IStorageFile Create(string path) => Wrap(path, () => new PosixFile(path,
        File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete)));

    public IStorageFile Open(string path, bool writable) => Wrap(path, () => new PosixFile(path,
        File.OpenHandle(path, FileMode.Open, writable ? FileAccess.ReadWrite : FileAccess.Read, FileShare.ReadWrite | FileShare.Delete)));

    public void Rename(string source, string destination) => Wrap(source, () => File.Move(source, destination, overwrite: true));

    public void Delete(string path) => Wrap(path, () => File.Delete(path));

    public bool FileExists(string path) => File.Exists(path);

    public IReadOnlyList<string> ListFiles(string directory) =>
        Wrap(directory, () => Directory.GetFiles(directory).Select(System.IO.Path.GetFileName).Select(n => n!).Order(StringComparer.Ordinal).ToList());

    public void CreateDirectory(string path) => Wrap(path, () => Directory.CreateDirectory(path));

    public void SyncDirectory(string directory)
    {
        RequireLinux();
        int fd = Native.Open(directory, Native.ORdOnly | Native.ODirectory | Native.OCloExec);
        if (fd < 0)
        {
            throw Failure(directory, "open for fsync");
        }
        try
        {
            if (Native.Fsync(fd) != 0)
            {
                throw Failure(directory, "fsync of the directory");
            }
        }
        finally
        {
            _ = Native.Close(fd);
        }
    }

    public IDisposable LockExclusive(string path)
    {
        RequireLinux();
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        }
        catch (IOException e) when (e.HResult == Native.EWouldBlock)
        {
            // .NET's own advisory lock at open (a shared flock) fails first while another writer holds the exclusive one.
            throw new StorageException(path, HeldExclusively, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw e.HResult == Native.ERoFs || e is UnauthorizedAccessException
                ? new StorageException(path, $"cannot open the lock file for writing ({e.Message}): the database is on a read-only file system or not writable; " +
                    "open it read-only (DatabaseOptions.ReadOnly) to read it.", e)
                : Map(path, (IOException)e, "cannot open the lock file");
        }
        return Flock(path, handle, Native.LockEx, HeldExclusively);
    }

    public IDisposable? LockShared(string path)
    {
        RequireLinux();
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // .NET's own advisory lock at open (a shared flock, which the writer's exclusive one has replaced) fails first.
            throw e.HResult == Native.EWouldBlock
                ? new StorageException(path, HeldByWriter, e)
                : new StorageException(path, $"cannot open the lock file for reading: {e.Message}", e);
        }
        return Flock(path, handle, Native.LockSh, HeldByWriter);
    }

    private const string HeldExclusively = "the database is locked by another writer or reader; only one process may write at a time.";

    private const string HeldByWriter = "the database is locked by another writer; it cannot be opened read-only or checked until that process closes it.";

    // Takes a flock on the handle without waiting; the handle (closed with the result) holds it.
    private static SafeFileHandle Flock(string path, SafeFileHandle handle, int operation, string held)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (Native.Flock((int)handle.DangerousGetHandle(), operation | Native.LockNb) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw errno == Native.EWouldBlock
                    ? new StorageException(path, held)
                    : new StorageException(path, $"flock failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
            }
        }
        catch
        {
            if (added)
            {
                handle.DangerousRelease();
                added = false;
            }
            handle.Dispose();
            throw;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
        return handle; // closing the descriptor releases the flock
    }

    // An I/O error as a storage error: no space left (ENOSPC, EDQUOT) is a DiskFullException.
    private static StorageException Map(string path, IOException e, string? operation = null)
    {
        string message = operation is null ? e.Message : $"{operation}: {e.Message}";
        return e.HResult is Native.ENoSpc or Native.EDQuot ? new DiskFullException(path, message, e) : new StorageException(path, message, e);
    }

    internal static StorageException Failure(string path, string operation)
    {
        int errno = Marshal.GetLastPInvokeError();
        string message = $"{operation} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).";
        return errno is Native.ENoSpc or Native.EDQuot ? new DiskFullException(path, message) : new StorageException(path, message);
    }

    private static void RequireLinux()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("HammingDB's storage runs on Linux (fsync and flock through libc).");
        }
    }

    private static T Wrap<T>(string path, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (IOException e) when (e is not StorageException)
        {
            throw Map(path, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new StorageException(path, e.Message, e);
        }
    }

    private static void Wrap(string path, Action action) => Wrap(path, () =>
    {
        action();
        return 0;
    });

    private sealed class PosixFile(string path, SafeFileHandle handle) : IStorageFile
    {
        public string Path { get; } = path;

        public long Length => Wrap(Path, () => RandomAccess.GetLength(handle));

        public int Read(long offset, Span<byte> buffer)
        {
            try
            {
                int total = 0;
                while (total < buffer.Length)
                {
                    int n = RandomAccess.Read(handle, buffer[total..], offset + total);
                    if (n == 0)
                    {
                        break;
                    }
                    total += n;
                }
                return total;
            }
            catch (IOException e)
            {
                throw Map(Path, e);
            }
        }

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            try
            {
                RandomAccess.Write(handle, data, offset);
            }
            catch (IOException e)
            {
                throw Map(Path, e);
            }
        }

        public void SetLength(long length) => Wrap(Path, () => RandomAccess.SetLength(handle, length));

        public void Sync()
        {
            RequireLinux();
            bool added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                if (Native.Fsync((int)handle.DangerousGetHandle()) != 0)
                {
                    throw Failure(Path, "fsync");
                }
            }
            finally
            {
                if (added)
                {
                    handle.DangerousRelease();
                }
            }
        }

        public MappedRegion MapReadOnly()
        {
            long length = Length;
            return length == 0 ? new EmptyRegion() : Wrap(Path, () => (MappedRegion)new MappedFileRegion(Path, length));
        }

        public void Dispose() => handle.Dispose();
    }

    private sealed unsafe class MappedFileRegion : MappedRegion
    {
        private readonly System.IO.MemoryMappedFiles.MemoryMappedFile _file;
        private readonly System.IO.MemoryMappedFiles.MemoryMappedViewAccessor _view;
        private readonly byte* _pointer;

        public MappedFileRegion(string path, long length)
        {
            _file = System.IO.MemoryMappedFiles.MemoryMappedFile.CreateFromFile(
                path, FileMode.Open, null, 0, System.IO.MemoryMappedFiles.MemoryMappedFileAccess.Read);
            _view = _file.CreateViewAccessor(0, length, System.IO.MemoryMappedFiles.MemoryMappedFileAccess.Read);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _pointer = pointer + _view.PointerOffset;
            Length = length;
        }

        public override byte* Pointer => _pointer;

        public override long Length { get; }

        public override void Dispose()
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
        }
    }

    private sealed unsafe class EmptyRegion : MappedRegion
    {
        public override byte* Pointer => null;

        public override long Length => 0;

        public override void Dispose()
        {
        }
    }

    private static partial class Native
    {
        public const int ORdOnly = 0;
        public const int ODirectory = 0x10000; // Linux x86-64 and arm64
        public const int OCloExec = 0x80000;
        public const int LockSh = 1;
        public const int LockEx = 2;
        public const int LockNb = 4;
        public const int EWouldBlock = 11;
        public const int ENoSpc = 28;
        public const int ERoFs = 30;
        public const int EDQuot = 122;

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static partial int Fsync(int fd);

        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        public static partial int Close(int fd);

        [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
        public static partial int Flock(int fd, int operation);
    }
}
