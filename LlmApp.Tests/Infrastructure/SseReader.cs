using System.Diagnostics;
using System.Net;
using System.Text;

namespace LlmApp.Tests.Infrastructure;

/// <summary>A raw SSE stream from the gateway, read event by event, as a client without an SDK would.</summary>
public sealed class SseReader : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseReader(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public HttpStatusCode Status => _response.StatusCode;

    public HttpResponseMessage Response => _response;

    /// <summary>Posts <paramref name="json"/> to <paramref name="path"/> (the chat API's by default) and reads its answer as it streams.</summary>
    public static async Task<SseReader> OpenAsync(
        HttpClient client, string json, string? apiKey = null, string path = "/v1/chat/completions", CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
            Headers = { Authorization = apiKey is null ? null : new("Bearer", apiKey) },
        };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        return new SseReader(response, reader);
    }

    /// <summary>The next <c>data:</c> payload, or null at the end of the stream; keep-alive comments are skipped.</summary>
    public async Task<string?> NextDataAsync(CancellationToken cancellationToken = default)
    {
        while (await _reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return line["data: ".Length..];
            }
        }

        return null;
    }

    /// <summary>Reads to the end; returns every data payload and how long that took.</summary>
    public async Task<(List<string> Events, TimeSpan Elapsed)> ReadToEndAsync(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var events = new List<string>();
        while (await NextDataAsync(cancellationToken) is { } data)
        {
            events.Add(data);
        }

        return (events, clock.Elapsed);
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
