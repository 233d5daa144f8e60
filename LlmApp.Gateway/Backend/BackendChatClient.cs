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
        var body = BackendRequestWriter.Write(messages, options, backend.Options.Model, stream: true, CachePrompt);
        using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, backend.InService);
        var watch = new SpeedWatch(backend, Stopwatch.GetTimestamp());
        HttpResponseMessage response;
        Stream stream;
        try
        {
            response = await SendAsync(body, stream: true, call.Token);
            stream = await response.Content.ReadAsStreamAsync(call.Token);
        }
        catch (Exception ex) when (TakenOutOfService(ex, cancellationToken))
        {
            throw OutOfService();
        }

        using (response)
        await using (stream)
        {
            await using var updates = BackendStreamReader.ReadAsync(stream, watch.UsageSeen, call.Token).GetAsyncEnumerator(call.Token);
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
            using var response = await SendAsync(body, stream: false, call.Token);
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

    private Task<HttpResponseMessage> SendAsync(byte[] body, bool stream, CancellationToken cancellationToken) =>
        // llama-server closes the connection after every streamed answer, whatever its Keep-Alive header says: a pooled
        // connection to it would be one it is closing, and a request sent on it would fail. So a stream gets a connection
        // of its own, closed after it.
        BackendSender.SendAsync(backend, http, backend.ChatCompletionsUri, body, closeConnection: stream && backend.Options.Kind == BackendKind.LlamaCpp,
            cancellationToken);
}
