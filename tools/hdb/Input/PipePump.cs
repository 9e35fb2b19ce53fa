using System.Buffers;
using System.IO.Pipelines;

namespace HammingDB.Cli.Input;

/// <summary>Drives a <see cref="PipeReader"/> over a stream: hands each buffer to a parser, which says how far it consumed.</summary>
internal static class PipePump
{
    /// <param name="stream">The input (left open).</param>
    /// <param name="process">Parses what it can of the buffer (the flag: the input has ended) and returns where it stopped.</param>
    /// <param name="cancellationToken">Stops the reading.</param>
    public static async Task RunAsync(Stream stream, Func<ReadOnlySequence<byte>, bool, SequencePosition> process, CancellationToken cancellationToken)
    {
        PipeReader reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 1 << 16, minimumReadSize: 1 << 12, leaveOpen: true));
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                SequencePosition consumed = process(result.Buffer, result.IsCompleted);
                reader.AdvanceTo(consumed, result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }
}
