using System.CommandLine;
using HammingDB.Cli.Input;

namespace HammingDB.Cli.Commands;

/// <summary>The arguments and options several commands share, and usage checks.</summary>
internal static class CommonOptions
{
    /// <summary>The default collection name.</summary>
    public const string DefaultCollection = "default";

    public static Argument<string> Database() => new("DB") { Description = "The database directory." };

    public static Option<string> Collection() => new("--collection")
    {
        Description = $"The collection (default '{DefaultCollection}').",
        DefaultValueFactory = _ => DefaultCollection,
    };

    /// <summary>FILE or "-" (stdin), optional: stdin when absent.</summary>
    public static Argument<string?> InputFile() => new("FILE")
    {
        Description = "The input file, or '-' for standard input (the default).",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>--format: the code formats, and with <paramref name="vectors"/> the float-vector files too (hdbf, fvecs).</summary>
    public static Option<string> Format(string description, bool vectors = false)
    {
        var option = new Option<string>("--format")
        {
            Description = $"{description} A line of hex or ndjson may be at most {LineReader.MaxLineBytes >> 20} MiB ({LineReader.MaxLineBytes} bytes); a longer one is refused, naming the file and line.",
            Required = true,
        };
        if (vectors)
        {
            option.AcceptOnlyFromAmong("hdbc", "hex", "ndjson", "hdbf", "fvecs");
        }
        else
        {
            option.AcceptOnlyFromAmong("hdbc", "hex", "ndjson");
        }
        return option;
    }

    /// <summary>--plan auto|mih|scan: how searches read the segments (answers do not depend on it).</summary>
    public static Option<string> Plan()
    {
        var option = new Option<string>("--plan")
        {
            Description = "How segments are searched: auto (the planner chooses per segment and query), mih (multi-index hashing tables wherever a segment has them), scan. Answers are identical.",
            DefaultValueFactory = _ => "auto",
        };
        option.AcceptOnlyFromAmong("auto", "mih", "scan");
        return option;
    }

    /// <summary>The plan named by --plan.</summary>
    public static QueryPlan ParsePlan(string plan) => plan switch
    {
        "mih" => QueryPlan.Mih,
        "scan" => QueryPlan.Scan,
        _ => QueryPlan.Auto,
    };

    public static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InputException(message);
        }
    }

    /// <summary>Checks the search options every search command takes: exactly one of --k (at least 1) and --radius (not negative).</summary>
    public static void RequireKOrRadius(int? k, int? radius)
    {
        Require(k is null != radius is null, "give exactly one of --k and --radius.");
        Require(k is null or > 0, $"--k must be at least 1; got {k}.");
        Require(radius is null or >= 0, $"--radius must not be negative; got {radius}.");
    }

    /// <summary>Runs an async command body to completion on the thread pool (no synchronisation context to deadlock on).</summary>
    public static int Wait(Func<Task<int>> body) => Task.Run(body).GetAwaiter().GetResult();
}
