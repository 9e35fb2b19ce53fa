using System.Globalization;
using System.Text;
using System.Text.Json;
using HammingDB.Cli;
using HammingDB.Kernels;
using Xunit.Abstractions;

namespace HammingDB.Tests.Cli;

/// <summary>Runs hdb in process against a temporary directory (deleted at the end), and the helpers CLI tests share.</summary>
public abstract class CliHarness(ITestOutputHelper output) : IDisposable
{
    protected ITestOutputHelper Output { get; } = output;

    protected string Dir { get; } = Directory.CreateTempSubdirectory("hdb-cli-").FullName;

    public void Dispose()
    {
        Directory.Delete(Dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    protected string PathOf(string name) => Path.Combine(Dir, name);

    /// <summary>Runs hdb with <paramref name="stdin"/> (null: empty) as standard input.</summary>
    protected HdbResult Hdb(byte[]? stdin, params string[] args)
    {
        using var input = new MemoryStream(stdin ?? []);
        using var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int exit = HammingDB.Cli.Program.Run(args, input, stdout, stderr);
        var result = new HdbResult(exit, stdout.ToArray(), stderr.ToString());
        string shown = result.Stdout.Length > 600 ? result.Stdout[..600] + "..." : result.Stdout;
        Output.WriteLine($"hdb {string.Join(' ', args.Select(a => a.Replace(Dir, "$DIR", StringComparison.Ordinal)))} -> {exit}\n{shown}{result.Stderr}");
        return result;
    }

    protected HdbResult Hdb(params string[] args) => Hdb(null, args);

    /// <summary>Runs hdb and requires exit code 0.</summary>
    protected HdbResult Ok(byte[]? stdin, params string[] args)
    {
        HdbResult result = Hdb(stdin, args);
        Assert.True(result.Exit == ExitCodes.Ok, $"exit {result.Exit}: {result.Stderr}");
        return result;
    }

    protected HdbResult Ok(params string[] args) => Ok(null, args);

    /// <summary>Runs hdb and requires exit code 2, nothing on stdout, and the message last on stderr; returns stderr.</summary>
    protected string Bad(byte[]? stdin, params string[] args)
    {
        HdbResult result = Hdb(stdin, args);
        Assert.Equal(ExitCodes.BadInput, result.Exit);
        Assert.StartsWith("hdb: ", result.Stderr.TrimEnd().Split('\n')[^1], StringComparison.Ordinal);
        return result.Stderr;
    }

    protected static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The code's bytes in storage order as hex: built from bytes, independently of the tool's encoder.</summary>
    protected static string HexOf(ReadOnlySpan<ulong> code, int bits)
    {
        var text = new StringBuilder();
        for (int j = 0; j < bits / 8; j++)
        {
            text.Append(((code[j / 8] >> (8 * (j % 8))) & 0xFF).ToString("x2", CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    protected static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    protected static byte[] HdbcBytes(PackedCodes codes)
    {
        string path = Path.GetTempFileName();
        try
        {
            HdbcFile.Write(path, codes);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    protected static List<JsonElement> JsonLines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();

    /// <summary>The row count a stats line reports.</summary>
    protected long Rows(string db, string collection = "default") =>
        JsonLines(Ok("stats", db, "--collection", collection).Stdout)[0].GetProperty("rows").GetInt64();
}

public sealed record HdbResult(int Exit, byte[] StdoutBytes, string Stderr)
{
    public string Stdout { get; } = Encoding.UTF8.GetString(StdoutBytes);
}
