using System.Globalization;
using System.Text;

namespace LlmApp.Gateway.Logging;

/// <summary>
/// Writes log text to standard output in batches, as nginx's <c>access_log ... buffer= flush=</c> does: text waits at
/// most <see cref="FlushInterval"/> and goes out in one write, so a busy gateway does not wake a thread and make a
/// system call for every request's line. A warning or an error is written at once, with everything before it.
/// </summary>
internal sealed class BufferedConsoleWriter : IDisposable
{
    /// <summary>How long a line may wait for others before it is written.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    // Written at once beyond this many characters, whatever the interval (a burst of long lines).
    private const int FlushThreshold = 32 * 1024;

    /// <summary>
    /// Characters that may wait while standard output takes nothing (a reader that stopped reading): beyond them a line
    /// is dropped and counted, and the count is written when output moves again, rather than blocking the threads that
    /// log (with inline socket completions, the threads that do all the gateway's I/O) or growing without end.
    /// </summary>
    public const int MaxPending = 4 * 1024 * 1024;

    private readonly Lock _gate = new();
    private readonly Lock _writeGate = new();
    private readonly StreamWriter _output;
    private readonly Thread _writer;
    private readonly SemaphoreSlim _pending = new(0);
    private readonly ManualResetEventSlim _urgent = new(false);
    private readonly TimeProvider _time;
    private ITimer? _flushTimer;
    private StringBuilder _buffer = new();
    private StringBuilder _spare = new();
    private bool _scheduled;
    private bool _disposed;
    private long _dropped;

    public BufferedConsoleWriter(Stream output, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        // No byte-order mark, and nothing written before Flush: one write a batch.
        _output = new StreamWriter(output, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), FlushThreshold) { AutoFlush = false };
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "Console log writer" };
        _writer.Start();
    }

    /// <summary>Adds <paramref name="text"/> to the batch; <paramref name="now"/> writes the batch without waiting.</summary>
    public void Append(string text, bool now)
    {
        bool wake;
        lock (_gate)
        {
            if (_disposed)
            {
                WriteDirectly(text);
                return;
            }

            if (_buffer.Length + text.Length > MaxPending)
            {
                _dropped++;
                return;
            }

            _buffer.Append(text);
            now |= _buffer.Length >= FlushThreshold;
            // Only the first line of a batch wakes the writer and sets the batch's timer: the rest costs an append.
            wake = !_scheduled;
            if (wake)
            {
                _scheduled = true;
                _flushTimer = _time.CreateTimer(static urgent => ((ManualResetEventSlim)urgent!).Set(), _urgent, FlushInterval, Timeout.InfiniteTimeSpan);
            }
        }

        if (now)
        {
            _urgent.Set();
        }

        if (wake)
        {
            _pending.Release();
        }
    }

    private void WriteLoop()
    {
        while (true)
        {
            _pending.Wait();
            // Until the batch's first line has waited the interval (its timer), a line is urgent, or the writer is disposed.
            _urgent.Wait();
            _urgent.Reset();
            if (!Flush())
            {
                return;
            }
        }
    }

    /// <summary>Writes the batch; false once disposed and written.</summary>
    private bool Flush()
    {
        StringBuilder batch;
        bool disposed;
        long dropped;
        ITimer? timer;
        lock (_gate)
        {
            (batch, _buffer, _spare) = (_buffer, _spare, _buffer);
            (timer, _flushTimer) = (_flushTimer, null);
            _scheduled = false;
            disposed = _disposed;
            (dropped, _dropped) = (_dropped, 0);
        }

        timer?.Dispose();
        if (dropped > 0)
        {
            batch.Append(CultureInfo.InvariantCulture,
                $"warn: {typeof(BufferedConsoleWriter).FullName}[0]{Environment.NewLine}      {dropped} log lines were dropped: standard output " +
                $"stopped taking them while {MaxPending} characters waited.{Environment.NewLine}");
        }

        WriteDirectly(batch);
        batch.Clear();
        return !disposed;
    }

    private void WriteDirectly(StringBuilder text)
    {
        if (text.Length == 0)
        {
            return;
        }

        lock (_writeGate)
        {
            try
            {
                _output.Write(text);
                _output.Flush();
            }
            catch (IOException)
            {
                // Standard output closed (the orchestrator went away): nothing else could take the lines either.
            }
        }
    }

    private void WriteDirectly(string text) => WriteDirectly(new StringBuilder(text));

    /// <summary>Writes what is left and stops the writer.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _urgent.Set();
        _pending.Release();
        _writer.Join(TimeSpan.FromSeconds(2));
    }
}
