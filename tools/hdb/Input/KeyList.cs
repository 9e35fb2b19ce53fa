namespace HammingDB.Cli.Input;

/// <summary>
/// The keys of <c>hdb get</c> and <c>hdb delete</c>: the KEY arguments, then the lines of
/// <c>--keys-file</c> ("-" for stdin), one key per line as text (u64: decimal; string: the line's
/// UTF-8 text; guid: any form). Every key is parsed before anything is done, so they are held: at
/// most <see cref="MaxHeldBytes"/> of them (a delete is one batch, all or nothing).
/// </summary>
internal static class KeyList
{
    /// <summary>The most key data held (the keys' bytes plus 32 per key): 64 MiB, as for queries.</summary>
    public const long MaxHeldBytes = QueryReader.MaxHeldBytes;

    public static async Task<List<TKey>> ReadAsync<TKey>(IReadOnlyList<string> arguments, string? keysFile, Stream stdin, KeyFormat<TKey> keys)
        where TKey : notnull
    {
        var list = new List<TKey>();
        for (int i = 0; i < arguments.Count; i++)
        {
            try
            {
                list.Add(keys.ParseText(arguments[i]));
            }
            catch (RecordException e)
            {
                throw new InputException($"argument KEY {i + 1}: {e.Message}.");
            }
        }
        if (keysFile is not null)
        {
            using InputSource source = InputSource.Open(keysFile, stdin);
            await LineReader.ReadAsync(source.Stream, source.Name, new Collector<TKey>(list, keys, source.Name)).ConfigureAwait(false);
        }
        if (list.Count == 0)
        {
            throw new InputException("give at least one KEY (arguments or --keys-file).");
        }
        return list;
    }

    private sealed class Collector<TKey>(List<TKey> list, KeyFormat<TKey> keys, string source) : ILineHandler
        where TKey : notnull
    {
        private long _held;

        public void Line(ReadOnlySpan<byte> line, long lineNumber)
        {
            _held += line.Length + 32L;
            if (_held > MaxHeldBytes)
            {
                throw new InputException($"{source}: line {lineNumber}: the keys take more than {MaxHeldBytes >> 20} MiB, the most hdb holds at once " +
                    "(every key is read before anything is done, and a delete is one batch); split the keys.");
            }
            list.Add(keys.ParseText(line));
        }
    }
}
