namespace HammingDB.Cli.Input;

/// <summary>
/// One record (a line, or a code of an .hdbc file) is bad. The reader that found it adds where
/// (source and line or byte offset) and turns it into an <see cref="InputException"/>.
/// </summary>
internal sealed class RecordException(string message) : Exception(message)
{
    /// <summary>The message of an engine <see cref="ArgumentException"/> without its "(Parameter 'x')" tail.</summary>
    public static RecordException From(ArgumentException e)
    {
        string message = e.Message;
        if (e.ParamName is { } name)
        {
            message = message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal);
        }
        return new RecordException(message.TrimEnd('.'));
    }
}
