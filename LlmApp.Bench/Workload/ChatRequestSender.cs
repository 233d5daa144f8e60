using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;

namespace LlmApp.Bench.Workload;

/// <summary>
/// Sends one chat request the way an OpenAI (or Anthropic) client does, in the target's API (<see cref="ApiDialect"/>),
/// and times it: the first text, every gap between pieces of text, the end. A stream's tokens are its text events; its
/// output count is the usage the server reports, when it reports one.
/// </summary>
internal sealed class ChatRequestSender(HttpClient http, int maxConcurrency)
{
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    // Servers seen closing a kept-alive connection after a stream without saying so (llama-server, and the relay in
    // front of it): their streams ask for Connection: close, so that no such connection goes back to the pool.
    private readonly ConcurrentDictionary<string, bool> _closeAfterStreams = new(StringComparer.Ordinal);
    private int _resent;

    /// <summary>Requests that had to be sent again because the server had closed the connection they went out on.</summary>
    public int Resent => _resent;

    /// <summary>Sends <paramref name="body"/>; with <paramref name="keepText"/>, the answer's text is kept (for a conversation's next turn).</summary>
    public async Task<RequestSample> SendAsync(Target target, byte[] body, bool stream, CancellationToken cancellationToken, bool keepText = false)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            using var response = await SendOnLiveConnectionAsync(target.Endpoint, body, stream, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                return RequestSample.Failed($"HTTP {(int)response.StatusCode}: {Shorten(text)}", Elapsed(start)) with
                {
                    Refused = response.StatusCode == System.Net.HttpStatusCode.TooManyRequests,
                };
            }

            await using var content = await response.Content.ReadAsStreamAsync(cancellationToken);
            return stream
                ? await ReadStreamAsync(target.Api, content, start, keepText, cancellationToken)
                : await ReadOneAsync(target.Api, content, start, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return RequestSample.Failed(Describe(ex), Elapsed(start));
        }
    }

    /// <summary>The exception's message with its causes' ("An error occurred while sending the request" alone says nothing).</summary>
    private static string Describe(Exception ex)
    {
        var text = new StringBuilder(ex.Message);
        for (var cause = ex.InnerException; cause is not null; cause = cause.InnerException)
        {
            text.Append(" (").Append(cause.Message).Append(')');
        }

        return text.ToString();
    }

    /// <summary>
    /// Sends on a kept-alive connection, as SDK clients do. llama-server closes a connection after every streamed answer
    /// whatever its Keep-Alive header says, so the next request can go out on a connection it is closing and get no
    /// answer. Such a request is sent again, at once, and counted, as the OpenAI SDKs' retries of connection errors
    /// would; no answer came the first time, so nothing is measured twice. Every connection of the pool can be such a
    /// one (as many as ran at once), so it is tried that many times and twice more; and from then on that server's
    /// streams say Connection: close, which it does anyway, so that no more such connections are pooled.
    /// </summary>
    private async Task<HttpResponseMessage> SendOnLiveConnectionAsync(Uri chatCompletions, byte[] body, bool stream, CancellationToken cancellationToken)
    {
        var server = chatCompletions.GetLeftPart(UriPartial.Authority);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await http.SendAsync(Request(), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (HttpRequestException ex) when (ClosedUnderIt(ex) && attempt < maxConcurrency + 2 && !cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _resent);
                _closeAfterStreams.TryAdd(server, true);
            }
        }

        // The connection was there and closed under the request; a server that refuses connections is not resent to.
        static bool ClosedUnderIt(HttpRequestException ex) => ex.HttpRequestError == HttpRequestError.ResponseEnded || ex.InnerException is IOException;

        HttpRequestMessage Request() => new(HttpMethod.Post, chatCompletions)
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = s_json } },
            Headers = { ConnectionClose = stream && _closeAfterStreams.ContainsKey(server) ? true : null },
        };
    }

    private static async Task<RequestSample> ReadStreamAsync(BenchApi api, Stream content, long start, bool keepText, CancellationToken cancellationToken)
    {
        var gaps = new List<double>();
        var answer = keepText ? new StringBuilder() : null;
        long first = 0, last = 0;
        var chunks = 0;
        TokenUsage? usage = null;
        string? error = null;
        var finished = false;
        await foreach (var item in SseParser.Create(content).EnumerateAsync(cancellationToken))
        {
            var now = Stopwatch.GetTimestamp();
            var streamed = ApiDialect.Read(api, item.Data);
            if (streamed.Done)
            {
                break;
            }

            if (streamed.Error is { } failure)
            {
                error = failure;
                break;
            }

            if (streamed.Text is { Length: > 0 } text)
            {
                if (first == 0)
                {
                    first = now;
                }
                else
                {
                    gaps.Add(Stopwatch.GetElapsedTime(last, now).TotalMilliseconds);
                }

                last = now;
                chunks++;
                answer?.Append(text);
            }

            finished |= streamed.Finished;
            usage = streamed.Usage ?? usage;
        }

        var end = Elapsed(start);
        if (error is not null || !finished)
        {
            return RequestSample.Failed(error ?? "The stream ended without a finish reason.", end);
        }

        return new RequestSample(true, null, first == 0 ? end : Stopwatch.GetElapsedTime(start, first).TotalMilliseconds, end,
            usage?.Completion ?? chunks, usage?.Prompt, usage?.Cached, gaps, answer?.ToString());
    }

    private static async Task<RequestSample> ReadOneAsync(BenchApi api, Stream content, long start, CancellationToken cancellationToken)
    {
        using var answer = await JsonDocument.ParseAsync(content, cancellationToken: cancellationToken);
        var end = Elapsed(start);
        // Held to the same word as a stream: an answer without a finish reason is not a whole one.
        var (usage, error) = ApiDialect.ReadOne(api, answer.RootElement);
        return error is not null
            ? RequestSample.Failed(error, end)
            // Without a stream, the first token arrives with the last.
            : new RequestSample(true, null, end, end, usage?.Completion ?? 1, usage?.Prompt, usage?.Cached, []);
    }

    private static double Elapsed(long start) => Stopwatch.GetElapsedTime(start).TotalMilliseconds;

    private static string Shorten(string text)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= 200 ? line : line[..200] + "…";
    }
}
