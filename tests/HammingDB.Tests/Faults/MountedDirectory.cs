using System.Diagnostics;
using Xunit.Abstractions;

namespace HammingDB.Tests.Faults;

/// <summary>
/// A temporary directory with a file system the test mounted on it (a small tmpfs, or a read-only bind mount of
/// another directory), unmounted and removed on Dispose. Mounting needs root (or CAP_SYS_ADMIN): where it fails, the
/// Try methods return null and print why, and the test skips itself with that reason; with HAMMINGDB_REQUIRE_MOUNTS=1
/// (CI as root) a failed mount fails the test instead.
/// </summary>
internal sealed class MountedDirectory : IDisposable
{
    private MountedDirectory(string path) => Path = path;

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>A tmpfs of <paramref name="bytes"/> bytes on a new temporary directory, or null (reason printed).</summary>
    public static MountedDirectory? TryTmpfs(long bytes, ITestOutputHelper output)
    {
        string point = Directory.CreateTempSubdirectory("hdb-tmpfs-").FullName;
        return TryMount(point, output, ["-t", "tmpfs", "-o", $"size={bytes},mode=0700", "tmpfs", point]);
    }

    /// <summary><paramref name="source"/> bound read-only on a new temporary directory, or null (reason printed).</summary>
    public static MountedDirectory? TryBindReadOnly(string source, ITestOutputHelper output)
    {
        string point = Directory.CreateTempSubdirectory("hdb-ro-").FullName;
        MountedDirectory? mounted = TryMount(point, output, ["--bind", source, point]);
        if (mounted is null)
        {
            return null;
        }
        if (Run(["-o", "remount,bind,ro", point], out string error) != 0)
        {
            mounted.Dispose();
            return Skip(output, $"remounting the bind mount read-only failed: {error}");
        }
        return mounted;
    }

    /// <summary>Free bytes on the file system of <see cref="Path"/>.</summary>
    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    public void Dispose()
    {
        // Lazy unmount as a last resort: a file a failed test left open must not keep the mount (and the RAM of a tmpfs).
        if (Run("umount", [Path], out _) != 0)
        {
            _ = Run("umount", ["-l", Path], out _);
        }
        try
        {
            Directory.Delete(Path); // never recursive: if the unmount failed, the mount's files (a bind mount's source) stay
        }
        catch (IOException)
        {
        }
    }

    private static MountedDirectory? TryMount(string point, ITestOutputHelper output, string[] arguments)
    {
        if (!OperatingSystem.IsLinux())
        {
            Directory.Delete(point);
            return Skip(output, "mounts are tested on Linux only");
        }
        int exit;
        string error;
        try
        {
            exit = Run(arguments, out error);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            exit = -1;
            error = $"cannot run mount: {e.Message}";
        }
        if (exit != 0)
        {
            Directory.Delete(point);
            return Skip(output, $"cannot mount ({string.Join(' ', arguments)}): {error.Trim()} (mounting needs root or CAP_SYS_ADMIN)");
        }
        return new MountedDirectory(point);
    }

    private static MountedDirectory? Skip(ITestOutputHelper output, string reason)
    {
        if (Environment.GetEnvironmentVariable("HAMMINGDB_REQUIRE_MOUNTS") == "1")
        {
            Assert.Fail($"HAMMINGDB_REQUIRE_MOUNTS=1, but {reason}");
        }
        output.WriteLine($"SKIPPED: {reason}");
        Console.WriteLine($"SKIPPED: {reason}"); // visible in the runner's console as well
        return null;
    }

    private static int Run(string[] arguments, out string error) => Run("mount", arguments, out error);

    private static int Run(string program, string[] arguments, out string error)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(start)!;
        error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode;
    }
}
