using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// Turns the chat pipeline's updates into OpenAI <c>chat.completion.chunk</c> events, in OpenAI's order: the
/// assistant role first, then content or tool-call deltas, one chunk with the finish reason, the usage chunk (no
/// choices) when the client asked for it and the backend counted, then <c>[DONE]</c>. Each token is written and flushed
/// as soon as it arrives. A failure before the first byte is answered with its status; after it, the stream's last
/// event is the error object, and no finish reason or usage is made up for an answer that did not finish.
/// </summary>
internal sealed class ChatCompletionStreamer(SseWriter writer, string model, bool includeUsage)
{
    private readonly ChunkJson _chunks = new(ChatResponseMapper.CompletionId(null), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model);

    /// <summary>Answers a request that asked to stream: <paramref name="updates"/> written to <paramref name="response"/> as SSE.</summary>
    public static async Task<IResult> RespondAsync(HttpResponse response, IAsyncEnumerable<ChatResponseUpdate> updates, string model, bool includeUsage,
        StreamingOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var writer = new SseWriter(response, options.KeepAliveInterval, time);
        return await new ChatCompletionStreamer(writer, model, includeUsage).StreamAsync(updates, cancellationToken);
    }

    /// <summary>Writes the stream; returns the result for a failure that came before the first byte.</summary>
    public Task<IResult> StreamAsync(IAsyncEnumerable<ChatResponseUpdate> updates, CancellationToken cancellationToken) =>
        AnswerEnding.StreamAsync(writer, () => WriteEventsAsync(updates, cancellationToken),
            failure => writer.WriteAsync(failure.Body, OpenAIJsonContext.Default.OpenAIErrorResponse, CancellationToken.None), cancellationToken);

    private async Task WriteEventsAsync(IAsyncEnumerable<ChatResponseUpdate> updates, CancellationToken cancellationToken)
    {
        var roleSent = false;
        ChatFinishReason? finishReason = null;
        UsageDetails? usage = null;
        var toolCallIndex = 0;
        var toolCalled = false;

        await foreach (var update in updates.WithCancellation(cancellationToken))
        {
            if (!roleSent)
            {
                await writer.WriteEventAsync(_chunks, static (json, chunks) => chunks.Role(json), cancellationToken);
                roleSent = true;
            }

            // A token's logprobs go in the chunk that carries its text; only a request that asked has them.
            // By index: a foreach over the IList (or OfType) would allocate an enumerator for every token.
            var contents = update.Contents;
            LogprobsContent? logprobs = null;
            for (var i = 0; contents.Count > 1 && i < contents.Count && logprobs is null; i++)
            {
                logprobs = contents[i] as LogprobsContent;
            }

            for (var i = 0; i < contents.Count; i++)
            {
                switch (contents[i])
                {
                    case TextContent { Text.Length: > 0 } text when logprobs is null:
                        await writer.WriteEventAsync((_chunks, text.Text), static (json, state) => state._chunks.Content(json, state.Text), cancellationToken);
                        break;
                    case TextContent text when logprobs is not null:
                        await WriteContentAsync(text.Text, logprobs, cancellationToken);
                        logprobs = null;
                        break;
                    case FunctionCallUpdateContent piece:
                        toolCalled = true;
                        await writer.WriteEventAsync((_chunks, piece), static (json, state) => state._chunks.ToolCall(json, state.piece), cancellationToken);
                        break;
                    case FunctionCallContent call:
                        toolCalled = true;
                        var toolCall = ChatResponseMapper.ToolCalls([call])![0] with { Index = toolCallIndex++ };
                        await writer.WriteEventAsync((_chunks, toolCall), static (json, state) => state._chunks.ToolCall(json, state.toolCall), cancellationToken);
                        break;
                    case UsageContent usageContent:
                        usage = usageContent.Details;
                        break;
                }
            }

            if (logprobs is not null)
            {
                // Logprobs for tokens whose text is empty (a piece of a longer character): they still belong to the answer.
                await WriteContentAsync("", logprobs, cancellationToken);
            }

            finishReason = update.FinishReason ?? finishReason;
        }

        var reason = AnswerEnding.Finished(finishReason);

        var finish = ChatResponseMapper.FinishReason(reason, toolCalled ? [] : null);
        await writer.WriteEventAsync((_chunks, finish), static (json, state) => state._chunks.Finish(json, state.finish), cancellationToken);
        if (includeUsage && ChatResponseMapper.Usage(usage) is { } counted)
        {
            await writer.WriteEventAsync((_chunks, counted), static (json, state) => state._chunks.Usage(json, state.counted), cancellationToken);
        }

        await writer.WriteDoneAsync(cancellationToken);
    }

    private ValueTask WriteContentAsync(string text, LogprobsContent logprobs, CancellationToken cancellationToken) =>
        writer.WriteEventAsync((_chunks, text, logprobs), static (json, state) => state._chunks.Content(json, state.text, state.logprobs.Json.Span), cancellationToken);
}
