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
        catch (IOException e)
        {
            throw new StorageException(path, "the database is locked by another writer (cannot open its lock file).", e);
        }
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (Native.Flock((int)handle.DangerousGetHandle(), Native.LockEx | Native.LockNb) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw errno == Native.EWouldBlock
                    ? new StorageException(path, "the database is locked by another writer; only one process may write at a time.")
                    : new StorageException(path, $"flock failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
            }
        }
        catch
        {
            if (added)
            {
                handle.DangerousRelease();
            }
            handle.Dispose();
            throw;
        }
        handle.DangerousRelease();
        return handle; // closing the descriptor releases the flock
    }

    internal static StorageException Failure(string path, string operation)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new StorageException(path, $"{operation} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
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
            throw new StorageException(path, e.Message, e);
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
                throw new StorageException(Path, e.Message, e);
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
                throw new StorageException(Path, e.Message, e);
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
        public const int LockEx = 2;
        public const int LockNb = 4;
        public const int EWouldBlock = 11;

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
