using System.CommandLine;

namespace HammingDB.Cli.Commands;

/// <summary>The KEY... arguments and --keys-file of get and delete.</summary>
internal static class KeyOptions
{
    public static Argument<string[]> Keys() => new("KEY")
    {
        Description = "Keys: decimal for u64 collections, the text for string, a GUID for guid.",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public static Option<string?> KeysFile() => new("--keys-file") { Description = "Also the keys of this file, one per line ('-': standard input)." };
}
