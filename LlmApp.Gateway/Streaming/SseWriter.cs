using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using LlmApp.Gateway.Configuration;
using Microsoft.AspNetCore.Http.Features;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// Writes Server-Sent Events straight to the response body: one <c>data: {json}</c> line and a blank line per event,
/// each flushed as soon as it is written, with response buffering off. When the stream has been silent for the
/// keep-alive interval (a long prompt being read, or a slot waiting while another reads one), a <c>: keep-alive</c>
/// comment goes out, so that proxies and clients with read timeouts do not give up on it. One timer per stream does
/// that; a write only notes its time, and the timer, when it fires, waits out the rest of the interval if there was one
/// meanwhile. So no timer is touched, and no timer or task is made, per token.
/// </summary>
internal sealed class SseWriter : IDisposable
{
    // Raw UTF-8 for text, as OpenAI sends it: escaping every non-ASCII character would triple its bytes. JSON's own
    // characters (quotes, backslashes, controls) are still escaped; nothing here is ever put into HTML.
    private static readonly JsonWriterOptions s_jsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    private readonly HttpResponse _response;
    private readonly TimeSpan _keepAliveInterval;
    private readonly TimeProvider _time;
    private readonly ITimer _keepAlive;

    // One writer at a time: the streamer, or the keep-alive timer.
    private readonly SemaphoreSlim _writing = new(1, 1);
    private Utf8JsonWriter? _json;
    private long _lastWrite;
    private volatile bool _disposed;

    public SseWriter(HttpResponse response, TimeSpan keepAliveInterval, TimeProvider time)
    {
        _response = response;
        _keepAliveInterval = keepAliveInterval;
        _time = time;
        _lastWrite = time.GetTimestamp();
        _keepAlive = time.CreateTimer(static state => ((SseWriter)state!).OnKeepAliveDue(), this, keepAliveInterval, Timeout.InfiniteTimeSpan);
    }

    public bool Started { get; private set; }

    /// <summary>Writes one event, whose JSON <paramref name="write"/> writes from <paramref name="state"/>, and flushes it.</summary>
    public ValueTask WriteEventAsync<TState>(TState state, Action<Utf8JsonWriter, TState> write, CancellationToken cancellationToken) =>
        WriteEventAsync(null, state, write, cancellationToken);

    /// <summary>
    /// Writes one event with its name (<c>event: </c><paramref name="name"/>, as Anthropic's streams name each), whose JSON
    /// <paramref name="write"/> writes from <paramref name="state"/>, and flushes it.
    /// </summary>
    public async ValueTask WriteEventAsync<TState>(byte[]? name, TState state, Action<Utf8JsonWriter, TState> write, CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            Start();
            var body = _response.BodyWriter;
            if (name is not null)
            {
                body.Write("event: "u8);
                body.Write(name);
                body.Write("\n"u8);
            }

            body.Write("data: "u8);
            if (_json is null)
            {
                _json = new Utf8JsonWriter(body, s_jsonOptions);
            }
            else
            {
                _json.Reset(body);
            }

            write(_json, state);
            _json.Flush();
            body.Write("\n\n"u8);
            await FlushAsync(cancellationToken);
        }
        finally
        {
            _writing.Release();
        }
    }

    public ValueTask WriteAsync<T>(T payload, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken) =>
        WriteEventAsync((payload, typeInfo), static (json, state) => JsonSerializer.Serialize(json, state.payload, state.typeInfo), cancellationToken);

    public async ValueTask WriteDoneAsync(CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            Start();
            _response.BodyWriter.Write("data: [DONE]\n\n"u8);
            await FlushAsync(cancellationToken);
        }
        finally
        {
            _writing.Release();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _keepAlive.Dispose();
        _json?.Dispose();
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var result = await _response.BodyWriter.FlushAsync(cancellationToken);
        Volatile.Write(ref _lastWrite, _time.GetTimestamp());
        if (result.IsCompleted || result.IsCanceled)
        {
            // The client is gone: stop producing, so that the backend request is cancelled too.
            throw new OperationCanceledException("The client closed the stream.");
        }
    }

    private void OnKeepAliveDue()
    {
        if (_disposed)
        {
            return;
        }

        var silence = _time.GetElapsedTime(Volatile.Read(ref _lastWrite));
        if (silence < _keepAliveInterval)
        {
            _keepAlive.TryChange(_keepAliveInterval - silence);
            return;
        }

        // A write under way is proof enough that the stream is alive.
        if (_writing.Wait(0))
        {
            _ = WriteKeepAliveAsync();
        }

        _keepAlive.TryChange(_keepAliveInterval);
    }

    private async Task WriteKeepAliveAsync()
    {
        try
        {
            if (!_disposed)
            {
                Start();
                _response.BodyWriter.Write(": keep-alive\n\n"u8);
                await _response.BodyWriter.FlushAsync();
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or OperationCanceledException)
        {
            // The client left, or the response ended meanwhile: the streamer finds out on its next write.
        }
        finally
        {
            _writing.Release();
        }
    }

    private void Start()
    {
        if (Started)
        {
            return;
        }

        Started = true;
        _response.StatusCode = StatusCodes.Status200OK;
        _response.ContentType = "text/event-stream";
        _response.Headers.CacheControl = "no-cache";
        // Tells nginx-style proxies in front of us not to buffer the stream either.
        _response.Headers["X-Accel-Buffering"] = "no";
        _response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }
}
