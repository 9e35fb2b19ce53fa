using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace HammingDB.Cli.Commands;

/// <summary>How <c>hdb ingest</c> reports progress (<c>--progress</c>).</summary>
internal abstract class IngestProgress
{
    /// <summary>Rows checked so far by the first pass over a regular file.</summary>
    public virtual void Checking(long rows)
    {
    }

    /// <summary>The first pass is over: the file holds <paramref name="rows"/> good rows.</summary>
    public virtual void Checked(long rows)
    {
    }

    /// <summary>A batch is durable: <paramref name="rows"/> rows of this run are, in all.</summary>
    public virtual void Durable(long rows)
    {
    }

    /// <summary>The run is over.</summary>
    public virtual void Done(long rows, double seconds)
    {
    }

    /// <summary>
    /// Runs <paramref name="body"/> with the reporter <paramref name="mode"/> names: json (one
    /// <c>{"durable":N}</c> line on stdout per durable batch, flushed), plain (lines on stderr, at most
    /// one a second), none, or auto (a progress bar when stderr is a terminal, else plain).
    /// </summary>
    public static async Task<T> RunAsync<T>(string mode, CliContext context, string source, Func<IngestProgress, Task<T>> body)
    {
        switch (mode)
        {
            case "json":
                return await body(new JsonProgress(context.Stdout)).ConfigureAwait(false);
            case "none":
                return await body(new NoProgress()).ConfigureAwait(false);
            case "auto" when context.StderrIsTerminal:
                IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(context.Stderr) });
                return await console.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .StartAsync(context => body(new BarProgress(context, source))).ConfigureAwait(false);
            default:
                return await body(new PlainProgress(context.Stderr, source)).ConfigureAwait(false);
        }
    }

    private sealed class NoProgress : IngestProgress;

    private sealed class JsonProgress(TextWriter stdout) : IngestProgress
    {
        // A parent process may kill us at any moment and trust these lines: written and flushed only after Apply returned.
        public override void Durable(long rows)
        {
            stdout.Write("{\"durable\":");
            stdout.Write(rows.ToString(CultureInfo.InvariantCulture));
            stdout.Write("}\n");
            stdout.Flush();
        }
    }

    private sealed class PlainProgress(TextWriter stderr, string source) : IngestProgress
    {
        private long _last = Stopwatch.GetTimestamp();

        public override void Checking(long rows) => Say($"checked {rows:N0} rows of {source}", final: false);

        public override void Checked(long rows) => Say($"checked {source}: {rows:N0} rows, all good; writing", final: true);

        public override void Durable(long rows) => Say($"{rows:N0} rows durable", final: false);

        public override void Done(long rows, double seconds) =>
            Say($"{rows:N0} rows durable in {seconds:F1} s ({(seconds > 0 ? rows / seconds : 0):N0} rows/s)", final: true);

        private void Say(FormattableString message, bool final)
        {
            if (final || Stopwatch.GetElapsedTime(_last).TotalSeconds >= 1)
            {
                stderr.WriteLine("hdb ingest: " + message.ToString(CultureInfo.InvariantCulture));
                stderr.Flush();
                _last = Stopwatch.GetTimestamp();
            }
        }
    }

    private sealed class BarProgress : IngestProgress
    {
        private readonly ProgressTask? _check;
        private readonly ProgressTask _write;

        public BarProgress(ProgressContext context, string source)
        {
            if (source != "stdin")
            {
                _check = context.AddTask($"check {Markup.Escape(source)}");
                _check.IsIndeterminate = true;
            }
            _write = context.AddTask("write", autoStart: _check is null);
            _write.IsIndeterminate = true;
        }

        public override void Checking(long rows) => _check!.Description = $"check: {rows:N0} rows";

        public override void Checked(long rows)
        {
            _check!.Description = $"checked: {rows:N0} rows";
            _check.IsIndeterminate = false;
            _check.MaxValue = _check.Value = 1;
            _write.MaxValue = Math.Max(1, rows);
            _write.IsIndeterminate = false;
            _write.StartTask();
        }

        public override void Durable(long rows)
        {
            _write.Description = $"durable: {rows:N0} rows";
            _write.Value = rows;
        }

        public override void Done(long rows, double seconds)
        {
            _write.IsIndeterminate = false;
            _write.MaxValue = Math.Max(1, rows);
            _write.Value = _write.MaxValue;
            _write.StopTask();
        }
    }
}
