using System.Buffers;

namespace HammingDB.Storage.Log;

/// <summary>
/// Appends records to a write-ahead log with group commit: <see cref="Append"/> returns only when
/// its record is durable, and threads appending at the same time share one write and one fsync
/// (the first becomes the leader and flushes everything queued, the others wait). A failed write
/// or sync stops the writer for good (fail-stop): that append and every later one throw, since
/// after a failed fsync the kernel may have dropped the dirty pages; reopening recovers from the
/// synced prefix.
/// </summary>
internal sealed class LogWriter : IDisposable
{
    private readonly object _gate = new();
    private readonly IStorageFile _file;
    private ArrayBufferWriter<byte> _pending = new();
    private ArrayBufferWriter<byte> _flushing = new();
    private long _appended;
    private long _durable;
    private bool _leaderActive;
    private StorageException? _failure;
    private long _length;

    private LogWriter(IStorageFile file, long number, long length)
    {
        _file = file;
        Number = number;
        _length = length;
    }

    /// <summary>The log number (in the header and the file name).</summary>
    public long Number { get; }

    /// <summary>Durable bytes in the log.</summary>
    public long Length
    {
        get
        {
            lock (_gate)
            {
                return _length;
            }
        }
    }

    /// <summary>How many fsyncs the writer has issued (group commit makes this smaller than the records).</summary>
    public long Syncs { get; private set; }

    /// <summary>
    /// Creates log <paramref name="number"/> in <paramref name="directory"/>: header written and
    /// synced under a temporary name, renamed into place, directory synced.
    /// </summary>
    public static LogWriter Create(IFileSystem fileSystem, string directory, long number)
    {
        DurableFile.Replace(fileSystem, directory, FileNames.Log(number), KillPoints.NewLog, file =>
        {
            Span<byte> header = stackalloc byte[LogFormat.HeaderBytes];
            LogFormat.WriteHeader(header, number);
            file.Write(0, header);
        });
        string path = Path.Combine(directory, FileNames.Log(number));
        return new LogWriter(fileSystem.Open(path, writable: true), number, LogFormat.HeaderBytes);
    }

    /// <summary>Reopens a log after recovery: whatever follows the valid prefix is cut off and the cut synced.</summary>
    public static LogWriter Reopen(IFileSystem fileSystem, string path, LogContents contents)
    {
        IStorageFile file = fileSystem.Open(path, writable: true);
        try
        {
            if (file.Length != contents.ValidLength)
            {
                file.SetLength(contents.ValidLength);
                file.Sync();
            }
            return new LogWriter(file, contents.Number, contents.ValidLength);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Appends one record and returns once it is durable; returns the record's sequence in this writer (1, 2, ...).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Type 0, or a payload over <see cref="LogFormat.MaxPayloadBytes"/>.</exception>
    /// <exception cref="StorageException">The write or sync failed, now or before: the writer has stopped.</exception>
    public long Append(byte type, ReadOnlySpan<byte> payload)
    {
        long sequence = Enqueue(type, payload);
        WaitDurable(sequence);
        return sequence;
    }

    /// <summary>
    /// Queues one record behind every record queued before it and returns its sequence at once;
    /// it is durable (and may be acknowledged) only when <see cref="WaitDurable"/> for it returns.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Type 0, or a payload over <see cref="LogFormat.MaxPayloadBytes"/>.</exception>
    /// <exception cref="StorageException">The writer has stopped.</exception>
    public long Enqueue(byte type, ReadOnlySpan<byte> payload)
    {
        ArgumentOutOfRangeException.ThrowIfZero(type);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payload.Length, LogFormat.MaxPayloadBytes, nameof(payload));
        lock (_gate)
        {
            ThrowIfStopped();
            LogFormat.WriteRecord(_pending, type, payload, _length);
            return ++_appended;
        }
    }

    /// <summary>
    /// Returns once the record of <paramref name="sequence"/> (and so every earlier one) is durable.
    /// The first waiter finding no flush under way becomes the leader and writes and syncs everything
    /// queued; the others wait for it and share its fsync.
    /// </summary>
    /// <exception cref="StorageException">A write or sync failed before the record was durable: the writer has stopped.</exception>
    public void WaitDurable(long sequence)
    {
        lock (_gate)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(sequence, _appended);
            while (_durable < sequence)
            {
                ThrowIfStopped();
                if (!_leaderActive)
                {
                    _leaderActive = true;
                    break;
                }
                Monitor.Wait(_gate);
            }
            if (_durable >= sequence)
            {
                return;
            }
        }
        FlushAsLeader();
    }

    // Writes and syncs everything queued, batch after batch, until the queue is empty.
    private void FlushAsLeader()
    {
        while (true)
        {
            ArrayBufferWriter<byte> batch;
            long upTo;
            long offset;
            lock (_gate)
            {
                if (_pending.WrittenCount == 0)
                {
                    _leaderActive = false;
                    return;
                }
                batch = _pending;
                _pending = _flushing;
                _flushing = batch;
                upTo = _appended;
                offset = _length;
            }
            try
            {
                _file.Write(offset, batch.WrittenSpan);
                KillPoints.Hit(KillPoints.LogBeforeSync);
                _file.Sync();
                KillPoints.Hit(KillPoints.LogAfterSync);
            }
            catch (Exception e)
            {
                lock (_gate)
                {
                    _failure = e as StorageException ?? new StorageException(_file.Path, e.Message, e);
                    _leaderActive = false;
                    Monitor.PulseAll(_gate);
                }
                throw Stopped();
            }
            lock (_gate)
            {
                _length = offset + batch.WrittenCount;
                _durable = upTo;
                Syncs++;
                batch.Clear();
                Monitor.PulseAll(_gate);
            }
        }
    }

    private void ThrowIfStopped()
    {
        if (_failure is not null)
        {
            throw Stopped();
        }
    }

    // A full disk stays a DiskFullException, so that callers can tell it (free space, then reopen) from other failures.
    private StorageException Stopped()
    {
        const string Message = "the log writer stopped after a failed write or sync; nothing after the last durable record is acknowledged. Reopen the database to recover.";
        return _failure is DiskFullException ? new DiskFullException(_file.Path, Message, _failure) : new StorageException(_file.Path, Message, _failure);
    }

    public void Dispose() => _file.Dispose();
}
