namespace HammingDB.Cli.Commands;

/// <summary>
/// What a command talks to: standard input (bytes: .hdbc is binary), standard output as text and,
/// when there is one, as bytes (<c>export --format hdbc</c> to "-"), standard error, and whether
/// standard error is a terminal (progress bars).
/// </summary>
internal sealed record CliContext(Stream Stdin, TextWriter Stdout, Stream? StdoutBytes, TextWriter Stderr, bool StderrIsTerminal);
