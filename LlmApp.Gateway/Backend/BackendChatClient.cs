using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// An <see cref="IChatClient"/> that speaks the OpenAI Chat Completions wire protocol to one backend, straight over
/// <see cref="HttpMessageInvoker"/>: the request is written with <see cref="Utf8JsonWriter"/>, the answer is always
/// streamed and read event by event (<see cref="BackendStreamReader"/>). The cancellation token reaches every read, so
/// a client that leaves or a deadline that passes closes the connection at once, which is how llama-server and vLLM
/// learn to stop generating and free the slot. Each answer that ends whole teaches the backend's
/// <see cref="BackendSpeed"/> what it took.
/// </summary>
internal sealed class BackendChatClient(ModelBackend backend, HttpMessageInvoker http) : IChatClient
{
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, backend.InService);
        var watch = new SpeedWatch(backend, Stopwatch.GetTimestamp());
        HttpResponseMessage response;
        Stream stream;
        // A continuation's: the tokens of the client's own prompt, counted while it streams.
        Task<int?>? promptBefore = null;
        try
        {
            Uri uri;
            byte[] body;
            if (options is GatewayChatOptions { ContinuesFinalMessage: true } && backend.Options.Kind == BackendKind.LlamaCpp)
            {
                (uri, body, promptBefore) = await ContinuationAsync(messages, options, call.Token);
            }
            else
            {
                (uri, body) = (backend.ChatCompletionsUri, BackendRequestWriter.Write(messages, options, backend.Options.Model, stream: true, CachePrompt));
            }

            response = await SendAsync(uri, body, stream: true, call.Token);
            stream = await response.Content.ReadAsStreamAsync(call.Token);
        }
        catch (Exception ex) when (TakenOutOfService(ex, cancellationToken))
        {
            throw OutOfService();
        }

        using (response)
        await using (stream)
        {
            await using var updates = BackendStreamReader.ReadAsync(stream, watch.UsageSeen, PromptCount.Of(options), call.Token).GetAsyncEnumerator(call.Token);
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync())
                    {
                        break;
                    }
                }
                catch (Exception ex) when (TakenOutOfService(ex, cancellationToken))
                {
                    throw OutOfService();
                }

                var update = updates.Current;
                if (watch.FirstToken == 0 && ChatUpdates.CarriesOutput(update))
                {
                    watch.FirstTokenCame();
                }

                if (promptBefore is not null && update.Contents.OfType<UsageContent>().FirstOrDefault() is { } usage && await promptBefore is { } tokens)
                {
                    (usage.Details.AdditionalCounts ??= [])[BackendUsage.PromptBeforeContinuationKey] = tokens;
                }

                yield return update;
            }

            watch.Ended(messages);
        }
    }

    /// <summary>
    /// One answer, asked for as one (<c>"stream": false</c>): llama-server keeps such a connection open for the next
    /// call, where it closes a streamed one, and the answer is read and parsed once instead of token by token.
    /// </summary>
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var body = BackendRequestWriter.Write(messages, options, backend.Options.Model, stream: false, CachePrompt);
        using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, backend.InService);
        var watch = new SpeedWatch(backend, Stopwatch.GetTimestamp());
        try
        {
            using var response = await SendAsync(backend.ChatCompletionsUri, body, stream: false, call.Token);
            var answer = BackendStreamReader.ReadOne(await response.Content.ReadAsByteArrayAsync(call.Token), watch.UsageSeen);
            watch.Ended(messages);
            return answer;
        }
        catch (Exception ex) when (TakenOutOfService(ex, cancellationToken))
        {
            throw OutOfService();
        }
    }

    private bool CachePrompt => backend.Options.Kind == BackendKind.LlamaCpp;

    /// <summary>Whether the call was cut because the backend was taken out of service, not by its caller.</summary>
    private bool TakenOutOfService(Exception exception, CancellationToken caller) =>
        backend.InService.IsCancellationRequested && !caller.IsCancellationRequested && exception is OperationCanceledException or IOException;

    private static BackendFailureException OutOfService() =>
        new(BackendFault.OutOfService, "The model backend stopped answering and was taken out of service.");

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    /// <summary>
    /// The request that continues a cut answer (the last message, the assistant's text so far) on llama-server. It goes on
    /// from a final assistant message only with a Jinja template (<c>--jinja</c>); with a model's built-in template (the
    /// AppHost runs it so) it closes that message and starts a new turn, which would repeat the answer. So it is asked as
    /// a completion: the conversation before the cut through the chat template (<c>/apply-template</c>, as for a chat
    /// call), then the text already sent, which the backend's prompt cache mostly holds.
    /// </summary>
    private async Task<(Uri Uri, byte[] Body, Task<int?> PromptTokens)> ContinuationAsync(
        IEnumerable<ChatMessage> messages, ChatOptions options, CancellationToken cancellationToken)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        var prompt = await PromptTokenCounter.ApplyTemplateAsync(backend, http, list.Take(list.Count - 1), options: null, cancellationToken)
            ?? throw new BackendFailureException(BackendFault.MalformedEvent, "The model backend did not apply its chat template.");
        return (new Uri(backend.Options.Endpoint!, "v1/completions"), BackendRequestWriter.WriteCompletion(prompt + list[^1].Text, options, backend.Options.Model, CachePrompt),
            CountAsync(prompt, cancellationToken));
    }

    /// <summary>The tokens of <paramref name="prompt"/> as llama-server reads a completion's (its special tokens parsed); null if it cannot say.</summary>
    private async Task<int?> CountAsync(string prompt, CancellationToken cancellationToken)
    {
        try
        {
            return await PromptTokenCounter.CountTextAsync(backend, http, prompt, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or BackendFailureException or OperationCanceledException
                                       or Polly.CircuitBreaker.BrokenCircuitException)
        {
            // The client's prompt is then the continuation's less the tokens already sent (AnswerSoFar.ToClientUsage).
            return null;
        }
    }

    private Task<HttpResponseMessage> SendAsync(Uri uri, byte[] body, bool stream, CancellationToken cancellationToken) =>
        // llama-server closes the connection after every streamed answer, whatever its Keep-Alive header says: a pooled
        // connection to it would be one it is closing, and a request sent on it would fail. So a stream gets a connection
        // of its own, closed after it.
        BackendSender.SendAsync(backend, http, uri, body, closeConnection: stream && backend.Options.Kind == BackendKind.LlamaCpp,
            cancellationToken);
}
