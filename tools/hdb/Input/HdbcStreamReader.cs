using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using HammingDB.Kernels;

namespace HammingDB.Cli.Input;

/// <summary>Receives the codes of an .hdbc input.</summary>
internal interface ICodeHandler
{
    /// <summary>The header was read: every code has <paramref name="bits"/> bits. Throw <see cref="RecordException"/> to refuse the width.</summary>
    void Header(int bits, ulong count);

    /// <summary>Code number <paramref name="index"/> (0-based); a bad one throws <see cref="RecordException"/>.</summary>
    void Code(ReadOnlySpan<ulong> code, long index);
}

/// <summary>
/// Streams an .hdbc input (the format of <see cref="HdbcFile"/>) through a <see cref="PipeReader"/>:
/// checks the header, hands over each code, and reports a truncated input, bytes past the last code
/// or padding bits set, naming the byte offset.
/// </summary>
internal static class HdbcStreamReader
{
    public static async Task ReadAsync(Stream stream, string source, ICodeHandler handler, CancellationToken cancellationToken = default)
    {
        var state = new State(source, handler);
        await PipePump.RunAsync(stream, (buffer, completed) => Process(buffer, completed, state), cancellationToken).ConfigureAwait(false);
    }

    private static SequencePosition Process(ReadOnlySequence<byte> buffer, bool completed, State state)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!state.Started)
        {
            if (reader.Remaining < HdbcFile.HeaderBytes)
            {
                if (completed)
                {
                    throw new InputException($"{state.Source}: not an .hdbc file: {reader.Remaining} bytes is shorter than the 32-byte header.");
                }
                return reader.Position;
            }
            Span<byte> header = stackalloc byte[HdbcFile.HeaderBytes];
            reader.TryCopyTo(header);
            reader.Advance(HdbcFile.HeaderBytes);
            (uint bits, ulong count) = HdbcFile.ParseHeader(header, state.Source);
            Call(() => state.Handler.Header((int)bits, count), state, 8);
            state.Start(new CodeLayout((int)bits), count);
        }
        CodeLayout layout = state.Layout;
        int stride = layout.StrideBytes;
        while (state.Index < state.Count && reader.Remaining >= stride)
        {
            int n = (int)Math.Min(Math.Min(state.Count - state.Index, (ulong)state.BufferCodes), (ulong)(reader.Remaining / stride));
            Span<ulong> words = state.Buffer.AsSpan(0, n * layout.WordsPerCode);
            reader.TryCopyTo(MemoryMarshal.AsBytes(words));
            reader.Advance((long)n * stride);
            if (!BitConverter.IsLittleEndian)
            {
                BinaryPrimitives.ReverseEndianness(words, words);
            }
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<ulong> code = words.Slice(i * layout.WordsPerCode, layout.WordsPerCode);
                long index = (long)state.Index;
                try
                {
                    layout.Validate(code, "code");
                    state.Handler.Code(code, index);
                }
                catch (ArgumentException e)
                {
                    throw new InputException($"{state.Source}: offset {state.Offset(index)}: code {index}: {RecordException.From(e).Message}.");
                }
                catch (RecordException e)
                {
                    throw new InputException($"{state.Source}: offset {state.Offset(index)}: code {index}: {e.Message}.");
                }
                state.Index++;
            }
        }
        if (state.Index == state.Count && reader.Remaining > 0)
        {
            throw new InputException(
                $"{state.Source}: offset {state.Offset((long)state.Count)}: bytes follow the last of the {state.Count} codes the header (offset 16) announces.");
        }
        if (completed && state.Index < state.Count)
        {
            long end = state.Offset((long)state.Index) + reader.Remaining;
            throw new InputException(
                $"{state.Source}: truncated at offset {end}: the header (offset 16) says {state.Count} codes of {layout.CodeBits} bits ({stride} bytes each), but the input ends {(reader.Remaining > 0 ? "inside" : "before")} code {state.Index}.");
        }
        return reader.Position;
    }

    private static void Call(Action action, State state, long offset)
    {
        try
        {
            action();
        }
        catch (RecordException e)
        {
            throw new InputException($"{state.Source}: offset {offset}: {e.Message}.");
        }
    }

    private sealed class State(string source, ICodeHandler handler)
    {
        public string Source { get; } = source;

        public ICodeHandler Handler { get; } = handler;

        public bool Started { get; private set; }

        public CodeLayout Layout { get; private set; }

        public ulong Count { get; private set; }

        public ulong Index { get; set; }

        public ulong[] Buffer { get; private set; } = [];

        public int BufferCodes { get; private set; }

        public void Start(CodeLayout layout, ulong count)
        {
            Started = true;
            Layout = layout;
            Count = count;
            BufferCodes = Math.Max(1, (1 << 16) / layout.StrideBytes);
            Buffer = new ulong[BufferCodes * layout.WordsPerCode];
        }

        public long Offset(long index) => HdbcFile.HeaderBytes + index * Layout.StrideBytes;
    }
}
