using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// A real llama-server, seen through an HTTP proxy that ends every answer to one prompt (<see cref="CutPrompt"/>) the
/// way llama-server ends an answer it fails part-way: a streamed one with its error event after some real content and
/// no finish reason, no usage and no <c>[DONE]</c>; a single one with a 500 and its error body. Every other request,
/// and every byte before the cut, is the real server's.
/// </summary>
/// <remarks>
/// This is the one fake in the integrity tests, and why: llama.cpp up to v0.4.0 failed this way by itself on some
/// seeds (its chat parser threw on invalid UTF-8, which the random test model emits), and the tests reproduced that.
/// The release now pinned fixed that bug, and no other input makes it fail part-way on purpose. The failure's shape
/// and words are that release's own, as it sent them.
/// </remarks>
public sealed class MidAnswerErrorProxy : IAsyncDisposable
{
    public const string CutPrompt = "Write a story about a lighthouse.";

    /// <summary>llama-server's own message for an answer its chat parser could not read (llama.cpp v0.4.0).</summary>
    public const string BackendMessage = "The model produced output that does not match the expected Content-only format";

    /// <summary>Real events relayed before the cut: the role, then some content.</summary>
    public const int EventsBeforeTheCut = 4;

    private static readonly byte[] s_cutPrompt = Encoding.UTF8.GetBytes(CutPrompt);

    private static readonly byte[] s_errorBody = Encoding.UTF8.GetBytes(
        JsonSerializer.Serialize(new { error = new { code = 500, message = BackendMessage, type = "server_error" } }));

    // Hop-by-hop headers, and those Kestrel sets itself for the body it writes.
    private static readonly HashSet<string> s_notForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Host", "Content-Length", "Upgrade", "Proxy-Connection",
    };

    private readonly WebApplication _app;
    private readonly HttpClient _upstream;
    private int _cuts;

    private MidAnswerErrorProxy(WebApplication app, HttpClient upstream, Uri address)
    {
        _app = app;
        _upstream = upstream;
        Address = address;
    }

    /// <summary>Where the gateway is pointed instead of llama-server.</summary>
    public Uri Address { get; }

    /// <summary>How many answers were cut.</summary>
    public int Cuts => _cuts;

    public static async Task<MidAnswerErrorProxy> StartAsync(Uri upstream)
    {
        // llama-server closes a connection after each streamed answer; a new one for every request never meets a dead one.
        var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero, AllowAutoRedirect = false })
        {
            BaseAddress = upstream,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        MidAnswerErrorProxy? proxy = null;
        var (app, address) = await LoopbackApp.StartAsync(web => web.Run(context => proxy!.ForwardAsync(context)));
        proxy = new MidAnswerErrorProxy(app, client, address);
        return proxy;
    }

    private async Task ForwardAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var cut = context.Request.Path == "/v1/chat/completions" && body.GetBuffer().AsSpan(0, (int)body.Length).IndexOf(s_cutPrompt) >= 0;

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), context.Request.Path + context.Request.QueryString);
        if (body.Length > 0 || HttpMethods.IsPost(context.Request.Method))
        {
            request.Content = new ByteArrayContent(body.GetBuffer(), 0, (int)body.Length);
        }

        foreach (var (name, values) in context.Request.Headers)
        {
            if (!s_notForwarded.Contains(name) && !request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        using var response = await _upstream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        if (cut && response.IsSuccessStatusCode)
        {
            Interlocked.Increment(ref _cuts);
            if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
            {
                await CutStreamAsync(context, response);
            }
            else
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                context.Response.ContentType = "application/json; charset=utf-8";
                await context.Response.Body.WriteAsync(s_errorBody, context.RequestAborted);
            }

            return;
        }

        context.Response.StatusCode = (int)response.StatusCode;
        CopyHeaders(response, context.Response);
        await using var upstreamBody = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await upstreamBody.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            // Flushed as it comes, so a stream is relayed event by event, as llama-server sent it.
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
    }

    /// <summary>The first events as llama-server sent them, then its error event, and the end of the response.</summary>
    private static async Task CutStreamAsync(HttpContext context, HttpResponseMessage response)
    {
        context.Response.StatusCode = (int)HttpStatusCode.OK;
        CopyHeaders(response, context.Response);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(context.RequestAborted), Encoding.UTF8);
        var events = 0;
        while (events < EventsBeforeTheCut && await reader.ReadLineAsync(context.RequestAborted) is { } line)
        {
            await context.Response.WriteAsync(line + "\n", context.RequestAborted);
            if (line.Length == 0)
            {
                events++;
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }

        await context.Response.WriteAsync("data: ", context.RequestAborted);
        await context.Response.Body.WriteAsync(s_errorBody, context.RequestAborted);
        await context.Response.WriteAsync("\n\n", context.RequestAborted);
        // Leaving drops the upstream connection, which is how llama-server learns to stop and free the slot.
    }

    private static void CopyHeaders(HttpResponseMessage from, HttpResponse to)
    {
        foreach (var (name, values) in from.Headers.Concat(from.Content.Headers))
        {
            if (!s_notForwarded.Contains(name))
            {
                to.Headers[name] = values.ToArray();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstream.Dispose();
    }
}
