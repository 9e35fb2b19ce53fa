namespace HammingDB.Cli;

/// <summary>The exit codes of every hdb command (also listed in README.md).</summary>
internal static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>An unexpected internal error (a bug: please report it with the message).</summary>
    public const int InternalError = 1;

    /// <summary>Usage error or bad input: the message names the option, file, line or offset and what is wrong.</summary>
    public const int BadInput = 2;

    /// <summary>A file could not be read or written (missing, permission, I/O error), or is damaged, or the database is locked by a writer.</summary>
    public const int StorageError = 3;

    /// <summary><c>hdb check</c> found damage (each problem is printed with its file and offset).</summary>
    public const int Damaged = 4;
}

/// <summary>Bad input from the user: reported with exit code 2 and nothing else printed.</summary>
internal sealed class InputException(string message) : Exception(message);
