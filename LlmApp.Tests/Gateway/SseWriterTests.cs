using System.Text;
using LlmApp.Gateway.Streaming;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace LlmApp.Tests.Gateway;

/// <summary>
/// Keep-alive comments, on a clock the test moves by hand: one goes out after a full interval of silence, counted from
/// the last event, and none while events keep coming. Against real llama-server: <c>SseFramingTests</c>.
/// </summary>
public sealed class SseWriterTests : IDisposable
{
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly MemoryStream _body = new();
    private readonly SseWriter _writer;

    public SseWriterTests()
    {
        var context = new DefaultHttpContext();
        context.Response.Body = _body;
        _writer = new SseWriter(context.Response, s_interval, _time);
    }

    public void Dispose()
    {
        _writer.Dispose();
        _body.Dispose();
    }

    [Fact]
    public async Task SilenceOfAWholeIntervalAfterTheLastEventGetsAKeepAlive()
    {
        await WriteEventAsync();
        _time.Advance(TimeSpan.FromSeconds(6));
        await WriteEventAsync();

        // Ten seconds after the first event, but only four after the last: nothing yet.
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, KeepAlives());

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, await KeepAlivesAsync(1));

        // And again for every further interval of silence.
        _time.Advance(s_interval);
        Assert.Equal(2, await KeepAlivesAsync(2));
    }

    [Fact]
    public async Task EventsThatKeepComingGetNoKeepAlive()
    {
        for (var i = 0; i < 30; i++)
        {
            await WriteEventAsync();
            _time.Advance(TimeSpan.FromSeconds(3));
        }

        Assert.Equal(0, KeepAlives());
        Assert.Equal(30, Text().Split("data: ").Length - 1);
    }

    private async Task WriteEventAsync() =>
        await _writer.WriteEventAsync(0, static (json, _) =>
        {
            json.WriteStartObject();
            json.WriteEndObject();
        }, CancellationToken.None);

    private string Text() => Encoding.UTF8.GetString(_body.ToArray());

    private int KeepAlives() => Text().Split(": keep-alive\n\n").Length - 1;

    /// <summary>The keep-alive is written off the timer's thread: waits (on real time, briefly) for the expected count.</summary>
    private async Task<int> KeepAlivesAsync(int expected)
    {
        for (var i = 0; i < 100 && KeepAlives() < expected; i++)
        {
            await Task.Delay(10);
        }

        return KeepAlives();
    }
}
