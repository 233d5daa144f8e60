using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace LlmApp.Bench.Relay;

/// <summary>
/// The floor of a gateway built on Kestrel and HttpClient, as the LlmApp gateway is: a proxy that takes a request with
/// Kestrel, sends it on with <see cref="HttpClient"/>, and copies each chunk of the answer back as it arrives, flushed,
/// with no parsing, no pipeline and no telemetry. Its CPU per token against the bare <see cref="TcpRelay"/>'s is what
/// the two frameworks cost; the gateway's against it is what the gateway's own work costs.
/// </summary>
internal static class HttpPassthrough
{
    public static async Task RunAsync(string listen, Uri upstream, CancellationToken cancellationToken)
    {
        var inline = LlmApp.Runtime.InlineIo.Enable();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(listen).UseSockets(sockets => sockets.UnsafePreferInlineScheduling = inline);
        using var http = new HttpMessageInvoker(new SocketsHttpHandler { MaxResponseDrainSize = 0, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(3) });
        await using var app = builder.Build();
        app.MapPost("/v1/chat/completions", async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(upstream, "v1/chat/completions"))
            {
                Content = new ByteArrayContent(body.ToArray()) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            };
            // As the gateway does: llama-server closes a connection after a stream, so a stream gets its own; a single
            // answer keeps its pooled one. The bench writes its JSON compact, so this is how it asks for a stream.
            request.Headers.ConnectionClose = body.GetBuffer().AsSpan(0, (int)body.Length).IndexOf("\"stream\":true"u8) >= 0;
            using var response = await http.SendAsync(request, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            await using var answer = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await answer.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        });
        // Runs until Ctrl+C or SIGTERM, which the host's lifetime and the command line's token both see.
        using var stop = cancellationToken.Register(() => app.Lifetime.StopApplication());
        await app.RunAsync();
    }
}
