using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// A real HTTP server on loopback that serves a file the way Hugging Face's <c>/resolve/</c> URLs do, with
/// Range support. Stands in for Hugging Face, which these machines cannot reach. It can cut a response
/// short to imitate a dropped connection, and records the Range header of each request.
/// </summary>
public sealed class ModelMirror : IAsyncDisposable
{
    private readonly WebApplication _app;

    public ConcurrentQueue<string?> Requests { get; } = new();

    /// <summary>When set, the next full or partial response stops after this many bytes and the connection is aborted.</summary>
    public long? CutAfterBytes { get; set; }

    public Uri BaseAddress { get; }

    private ModelMirror(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public static async Task<ModelMirror> StartAsync(string repo, string revision, string fileName, string localFile)
    {
        ModelMirror? mirror = null;
        var (app, address) = await LoopbackApp.StartAsync(web => web.MapGet($"/{repo}/resolve/{revision}/{fileName}", async (HttpContext context) =>
        {
            mirror!.Requests.Enqueue(context.Request.Headers.Range.ToString() is { Length: > 0 } range ? range : null);
            if (mirror.CutAfterBytes is { } cut)
            {
                mirror.CutAfterBytes = null;
                var bytes = await File.ReadAllBytesAsync(localFile);
                context.Response.ContentLength = bytes.Length;
                await context.Response.Body.WriteAsync(bytes.AsMemory(0, (int)cut));
                await context.Response.Body.FlushAsync();
                context.Abort();
                return;
            }

            await Results.File(localFile, "application/octet-stream", enableRangeProcessing: true).ExecuteAsync(context);
        }));
        mirror = new ModelMirror(app, address);
        return mirror;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
