using LlmApp.Gateway.OpenAI;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// Turns the backend's stream of <see cref="ChatResponseUpdate"/>s into OpenAI <c>chat.completion.chunk</c> events:
/// the assistant role first, then content or tool-call deltas, one chunk with the finish reason, the usage chunk
/// (no choices) only when the client asked for it, then <c>[DONE]</c>. Sends a keep-alive comment whenever the
/// backend is silent for longer than the keep-alive interval.
/// </summary>
internal sealed class ChatCompletionStreamer(SseWriter writer, string model, bool includeUsage, TimeSpan keepAliveInterval, Action<ChatResponseUpdate> onUpdate)
{
    private readonly string _id = ChatResponseMapper.CompletionId(null);
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public async Task StreamAsync(IAsyncEnumerable<ChatResponseUpdate> updates, CancellationToken cancellationToken)
    {
        var roleSent = false;
        string? finishReason = null;
        UsageDetails? usage = null;
        var toolCallIndex = 0;

        await using var enumerator = updates.GetAsyncEnumerator(cancellationToken);
        while (await MoveNextAsync(enumerator, cancellationToken))
        {
            var update = enumerator.Current;
            onUpdate(update);
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

            if (update.FinishReason is { } reason)
            {
                finishReason = ChatResponseMapper.FinishReason(reason, toolCallIndex > 0 ? [] : null);
            }
        }

        if (!roleSent)
        {
            await WriteChunkAsync(new ChatCompletionDelta(Role: "assistant", Content: ""), null, cancellationToken);
        }

        await WriteChunkAsync(new ChatCompletionDelta(), finishReason ?? (toolCallIndex > 0 ? "tool_calls" : "stop"), cancellationToken);

        if (includeUsage)
        {
            await writer.WriteAsync(
                new ChatCompletionChunk(_id, _created, model, [], ChatResponseMapper.Usage(usage) ?? new CompletionUsage(0, 0, 0, null)),
                OpenAIJsonContext.Default.ChatCompletionChunk, cancellationToken);
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
