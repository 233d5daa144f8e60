using System.Text;
using System.Diagnostics;
using LlmApp.Gateway.Logging;
using Microsoft.Extensions.Time.Testing;

namespace LlmApp.Tests.Telemetry;

/// <summary>The batched console writer: what it promises about when a line reaches standard output, and that it loses none.</summary>
public sealed class BufferedConsoleWriterTests
{
    [Fact]
    public async Task LinesGoOutTogetherInOneWriteOnceTheFirstHasWaitedTheFlushInterval()
    {
        var output = new RecordingStream();
        var time = new FakeTimeProvider();
        using var writer = new BufferedConsoleWriter(output, time);

        for (var i = 0; i < 100; i++)
        {
            writer.Append($"line {i}\n", now: false);
            time.Advance(TimeSpan.FromMilliseconds(0.5));
        }

        // Nothing before the first line has waited the interval, however long the writer is given in real time.
        time.Advance(BufferedConsoleWriter.FlushInterval - TimeSpan.FromMilliseconds(51));
        await Task.Delay(200);
        Assert.Equal(0, output.Writes);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await output.WaitForAsync(text => text.Contains("line 99\n", StringComparison.Ordinal));
        Assert.Equal(string.Concat(Enumerable.Range(0, 100).Select(i => $"line {i}\n")), output.Text);
        Assert.Equal(1, output.Writes);
    }

    [Fact]
    public async Task AnUrgentLineGoesOutAtOnceWithTheLinesBeforeIt()
    {
        var output = new RecordingStream();
        // A clock that never moves: the urgent line does not wait for it.
        using var writer = new BufferedConsoleWriter(output, new FakeTimeProvider());

        writer.Append("info\n", now: false);
        writer.Append("warn\n", now: true);

        await output.WaitForAsync(text => text.Contains("warn", StringComparison.Ordinal));
        Assert.Equal("info\nwarn\n", output.Text);
        Assert.Equal(1, output.Writes);
    }

    [Fact]
    public void DisposingWritesWhatIsLeftAndLaterLinesStillGoOut()
    {
        var output = new RecordingStream();
        var writer = new BufferedConsoleWriter(output);
        writer.Append("last words\n", now: false);

        writer.Dispose();
        writer.Append("after\n", now: false);

        Assert.Equal("last words\nafter\n", output.Text);
    }

    [Fact]
    public async Task TextFromManyThreadsArrivesWholeAndNoneIsLost()
    {
        var output = new RecordingStream();
        using (var writer = new BufferedConsoleWriter(output))
        {
            await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
            {
                for (var i = 0; i < 5_000; i++)
                {
                    writer.Append($"{t}:{i} ✓\n", now: i % 1_000 == 0);
                }
            })));
        }

        var lines = output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(20_000, lines.Length);
        Assert.Equal(20_000, lines.Distinct().Count());
        Assert.All(lines, line => Assert.EndsWith(" ✓", line, StringComparison.Ordinal));
        // Each thread's lines in the order it wrote them.
        foreach (var thread in lines.GroupBy(line => line[..line.IndexOf(':', StringComparison.Ordinal)]))
        {
            var numbers = thread.Select(line => int.Parse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..line.IndexOf(' ', StringComparison.Ordinal)],
                System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(Enumerable.Range(0, 5_000), numbers);
        }
    }

    [Fact]
    public async Task WhileStandardOutputTakesNothingLinesBeyondTheLimitAreDroppedAndCountedNotQueuedWithoutEnd()
    {
        var output = new RecordingStream { Blocked = true };
        using var writer = new BufferedConsoleWriter(output);
        writer.Append("first\n", now: true);
        await output.WaitForWriteToBlockAsync();

        // The writer thread is stuck writing "first"; these wait, up to the limit, and the rest are counted.
        var line = new string('x', 1023) + "\n";
        var fits = BufferedConsoleWriter.MaxPending / line.Length;
        for (var i = 0; i < fits + 10; i++)
        {
            writer.Append(line, now: false);
        }

        output.Blocked = false;
        await output.WaitForAsync(text => text.Contains("were dropped", StringComparison.Ordinal));
        var text = output.Text;
        Assert.StartsWith("first\n", text, StringComparison.Ordinal);
        Assert.Equal(fits, text.Split('\n').Count(l => l.Length == 1023));
        Assert.Contains("10 log lines were dropped", text, StringComparison.Ordinal);
    }

    /// <summary>Standard output stand-in: keeps the bytes and counts the flushed writes.</summary>
    private sealed class RecordingStream : Stream
    {
        private readonly Lock _gate = new();
        private readonly MemoryStream _bytes = new();
        private readonly ManualResetEventSlim _blocked = new(true);
        private int _flushes;
        private int _waiting;

        public string Text
        {
            get
            {
                lock (_gate)
                {
                    return Encoding.UTF8.GetString(_bytes.ToArray());
                }
            }
        }

        public int Writes => Volatile.Read(ref _flushes);

        /// <summary>While true, a write waits (a reader that stopped reading).</summary>
        public bool Blocked
        {
            get => _blocked.IsSet is false;
            set
            {
                if (value)
                {
                    _blocked.Reset();
                }
                else
                {
                    _blocked.Set();
                }
            }
        }

        public async Task WaitForWriteToBlockAsync()
        {
            var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 10;
            while (Volatile.Read(ref _waiting) == 0)
            {
                Assert.True(Stopwatch.GetTimestamp() < deadline, "no write came within 10 s");
                await Task.Delay(5);
            }
        }

        public async Task WaitForAsync(Func<string, bool> condition)
        {
            var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 10;
            while (!condition(Text))
            {
                Assert.True(Stopwatch.GetTimestamp() < deadline, $"not written within 10 s; so far: {Text}");
                await Task.Delay(5);
            }
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Interlocked.Increment(ref _waiting);
            _blocked.Wait();
            lock (_gate)
            {
                _bytes.Write(buffer, offset, count);
            }
        }

        public override void Flush() => Interlocked.Increment(ref _flushes);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
