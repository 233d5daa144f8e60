using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Features;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// Writes Server-Sent Events straight to the response body: one <c>data: {json}</c> line and a blank line per
/// event, each flushed as soon as it is written. Response buffering is turned off, so nothing sits in a buffer.
/// </summary>
internal sealed class SseWriter(HttpResponse response) : IDisposable
{
    private static readonly byte[] s_done = "data: [DONE]\n\n"u8.ToArray();
    private static readonly byte[] s_keepAlive = ": keep-alive\n\n"u8.ToArray();

    private Utf8JsonWriter? _json;

    public bool Started { get; private set; }

    public async ValueTask WriteAsync<T>(T payload, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        Start();
        var body = response.BodyWriter;
        body.Write("data: "u8);
        if (_json is null)
        {
            _json = new Utf8JsonWriter(body);
        }
        else
        {
            _json.Reset(body);
        }

        JsonSerializer.Serialize(_json, payload, typeInfo);
        _json.Flush();
        body.Write("\n\n"u8);
        await FlushAsync(cancellationToken);
    }

    public ValueTask WriteDoneAsync(CancellationToken cancellationToken) => WriteRawAsync(s_done, cancellationToken);

    public ValueTask WriteKeepAliveAsync(CancellationToken cancellationToken) => WriteRawAsync(s_keepAlive, cancellationToken);

    private async ValueTask WriteRawAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        Start();
        response.BodyWriter.Write(bytes);
        await FlushAsync(cancellationToken);
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var result = await response.BodyWriter.FlushAsync(cancellationToken);
        if (result.IsCompleted || result.IsCanceled)
        {
            // The client is gone: stop producing, so that the backend request is cancelled too.
            throw new OperationCanceledException("The client closed the stream.");
        }
    }

    public void Dispose() => _json?.Dispose();

    private void Start()
    {
        if (Started)
        {
            return;
        }

        Started = true;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Tells nginx-style proxies in front of us not to buffer the stream either.
        response.Headers["X-Accel-Buffering"] = "no";
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }
}
