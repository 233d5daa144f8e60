using LlmApp.Gateway.Failures;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// Turns the chat pipeline's updates into OpenAI <c>chat.completion.chunk</c> events, in OpenAI's order: the
/// assistant role first, then content or tool-call deltas, one chunk with the finish reason, the usage chunk (no
/// choices) when the client asked for it and the backend counted, then <c>[DONE]</c>. A failure before the first
/// byte is answered with its status; after it, the stream's last event is the error object, and no finish reason
/// or usage is made up for an answer that did not finish. A keep-alive comment goes out whenever the backend is
/// silent for longer than the keep-alive interval.
/// </summary>
internal sealed class ChatCompletionStreamer(SseWriter writer, string model, bool includeUsage, TimeSpan keepAliveInterval)
{
    private readonly string _id = ChatResponseMapper.CompletionId(null);
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>Writes the stream; returns the result for a failure that came before the first byte.</summary>
    public async Task<IResult> StreamAsync(IAsyncEnumerable<ChatResponseUpdate> updates, CancellationToken cancellationToken)
    {
        try
        {
            await WriteEventsAsync(updates, cancellationToken);
            return Results.Empty;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OperationCanceledException)
        {
            var failure = FailureClassifier.Classify(ex);
            if (!writer.Started)
            {
                return failure.ToResult();
            }

            await writer.WriteAsync(failure.Body, OpenAIJsonContext.Default.OpenAIErrorResponse, CancellationToken.None);
            return Results.Empty;
        }
    }

    private async Task WriteEventsAsync(IAsyncEnumerable<ChatResponseUpdate> updates, CancellationToken cancellationToken)
    {
        var roleSent = false;
        ChatFinishReason? finishReason = null;
        UsageDetails? usage = null;
        var toolCallIndex = 0;

        await using var enumerator = updates.GetAsyncEnumerator(cancellationToken);
        while (await MoveNextAsync(enumerator, cancellationToken))
        {
            var update = enumerator.Current;
            if (!roleSent)
            {
                await WriteChunkAsync(new ChatCompletionDelta(Role: "assistant", Content: ""), null, cancellationToken);
                roleSent = true;
            }

            foreach (var content in update.Contents)
            {
                switch (content)
                {
                    case TextContent { Text.Length: > 0 } text:
                        await WriteChunkAsync(new ChatCompletionDelta(Content: text.Text), null, cancellationToken);
                        break;
                    case FunctionCallContent call:
                        var toolCall = ChatResponseMapper.ToolCalls([call])![0] with { Index = toolCallIndex++ };
                        await WriteChunkAsync(new ChatCompletionDelta(ToolCalls: [toolCall]), null, cancellationToken);
                        break;
                    case UsageContent usageContent:
                        usage = usageContent.Details;
                        break;
                }
            }

            finishReason = update.FinishReason ?? finishReason;
        }

        if (finishReason is not { } reason)
        {
            throw new IncompleteResponseException("The answer ended without a finish reason.");
        }

        await WriteChunkAsync(new ChatCompletionDelta(), ChatResponseMapper.FinishReason(reason, toolCallIndex > 0 ? [] : null), cancellationToken);
        if (includeUsage && ChatResponseMapper.Usage(usage) is { } counted)
        {
            await writer.WriteAsync(new ChatCompletionChunk(_id, _created, model, [], counted), OpenAIJsonContext.Default.ChatCompletionChunk, cancellationToken);
        }

        await writer.WriteDoneAsync(cancellationToken);
    }

    private ValueTask WriteChunkAsync(ChatCompletionDelta delta, string? finishReason, CancellationToken cancellationToken) =>
        writer.WriteAsync(
            new ChatCompletionChunk(_id, _created, model, [new ChatCompletionChunkChoice(0, delta, finishReason)]),
            OpenAIJsonContext.Default.ChatCompletionChunk, cancellationToken);

    private async ValueTask<bool> MoveNextAsync(IAsyncEnumerator<ChatResponseUpdate> enumerator, CancellationToken cancellationToken)
    {
        var next = enumerator.MoveNextAsync();
        if (next.IsCompleted)
        {
            return await next;
        }

        var pending = next.AsTask();
        while (true)
        {
            try
            {
                // No token here: on cancellation the pending read must finish (it fails fast once the backend
                // connection is aborted) before the enumerator can be disposed.
                return await pending.WaitAsync(keepAliveInterval, CancellationToken.None);
            }
            catch (TimeoutException) when (!pending.IsCompleted)
            {
                // The backend is still thinking (a long prompt): tell the client the stream is alive.
                await writer.WriteKeepAliveAsync(cancellationToken);
            }
        }
    }
}
