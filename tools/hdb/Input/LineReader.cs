using System.Buffers;
using System.IO.Pipelines;

namespace HammingDB.Cli.Input;

/// <summary>Receives the lines of an input, one at a time, without the line end.</summary>
internal interface ILineHandler
{
    /// <summary>One line (without "\n" or "\r\n"); a bad one throws <see cref="RecordException"/>.</summary>
    void Line(ReadOnlySpan<byte> line, long lineNumber);
}

/// <summary>
/// Splits a stream into lines through a <see cref="PipeReader"/>: lines are handed over as spans of
/// the pipe's buffers (copied only when a line straddles two buffers), never as strings. Lines end at
/// "\n" ("\r\n" too); the last may lack it. A line longer than <see cref="MaxLineBytes"/> is an error.
/// </summary>
internal static class LineReader
{
    /// <summary>The longest line accepted: 1 MiB.</summary>
    public const int MaxLineBytes = 1 << 20;

    /// <summary>Reads every line of <paramref name="stream"/>; errors become <see cref="InputException"/>s naming <paramref name="source"/> and the line.</summary>
    public static async Task ReadAsync(Stream stream, string source, ILineHandler handler, CancellationToken cancellationToken = default)
    {
        var state = new State(source, handler);
        await PipePump.RunAsync(stream, (buffer, completed) => Process(buffer, completed, state), cancellationToken).ConfigureAwait(false);
    }

    // Hands over every complete line of the buffer (and the unterminated last line at the end); returns how far it got.
    private static SequencePosition Process(ReadOnlySequence<byte> buffer, bool completed, State state)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
        {
            Deliver(line, state);
        }
        if (completed && !reader.End)
        {
            Deliver(reader.UnreadSequence, state);
            reader.AdvanceToEnd();
        }
        else if (reader.Remaining > MaxLineBytes)
        {
            throw TooLong(state.LineNumber + 1, state);
        }
        return reader.Position;
    }

    private static void Deliver(ReadOnlySequence<byte> line, State state)
    {
        state.LineNumber++;
        if (line.Length > MaxLineBytes + 1)
        {
            throw TooLong(state.LineNumber, state);
        }
        ReadOnlySpan<byte> span;
        if (line.IsSingleSegment)
        {
            span = line.FirstSpan;
        }
        else
        {
            if (state.Scratch.Length < line.Length)
            {
                state.Scratch = new byte[Math.Max(line.Length, 2 * state.Scratch.Length)];
            }
            line.CopyTo(state.Scratch);
            span = state.Scratch.AsSpan(0, (int)line.Length);
        }
        if (!span.IsEmpty && span[^1] == (byte)'\r')
        {
            span = span[..^1];
        }
        if (span.Length > MaxLineBytes)
        {
            throw TooLong(state.LineNumber, state);
        }
        try
        {
            state.Handler.Line(span, state.LineNumber);
        }
        catch (RecordException e)
        {
            throw new InputException($"{state.Source}: line {state.LineNumber}: {e.Message}.");
        }
    }

    private static InputException TooLong(long lineNumber, State state) =>
        new($"{state.Source}: line {lineNumber}: the line is longer than {MaxLineBytes} bytes (1 MiB), the longest hdb reads.");

    private sealed class State(string source, ILineHandler handler)
    {
        public string Source { get; } = source;

        public ILineHandler Handler { get; } = handler;

        public long LineNumber { get; set; }

        public byte[] Scratch { get; set; } = new byte[4096];
    }
}
