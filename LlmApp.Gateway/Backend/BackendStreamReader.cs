using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Reads an OpenAI-compatible SSE stream into <see cref="ChatResponseUpdate"/>s, and holds it to its word: an
/// error event, an event that does not parse, or a stream that ends without a finish reason is a failure, thrown
/// as one, so that a cut answer can never pass for a whole one.
/// </summary>
internal static class BackendStreamReader
{
    public static async IAsyncEnumerable<ChatResponseUpdate> ReadAsync(Stream body, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var parser = SseParser.Create(body, static (_, data) => Parse(data));
        var toolCalls = new ToolCallAssembler();
        var finished = false;
        await foreach (var item in parser.EnumerateAsync(cancellationToken))
        {
            if (item.Data is not { } chunk)
            {
                // [DONE]
                break;
            }

            if (chunk.Failure is { } error)
            {
                throw new BackendFailureException(BackendFault.ErrorEvent,
                    string.IsNullOrWhiteSpace(error.Message) ? "The model backend failed mid-answer." : error.Message);
            }

            var update = ToUpdate(chunk, toolCalls);
            finished |= update.FinishReason is not null;
            yield return update;
        }

        if (!finished)
        {
            throw new IncompleteResponseException("The model backend's stream ended before it gave a finish reason.");
        }
    }

    /// <summary>Parses one event's data; null for <c>[DONE]</c>.</summary>
    private static BackendChunk? Parse(ReadOnlySpan<byte> data)
    {
        if (data.SequenceEqual("[DONE]"u8))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(data, BackendJsonContext.Default.BackendChunk)
                   ?? throw new JsonException("null");
        }
        catch (JsonException)
        {
            throw new BackendFailureException(BackendFault.MalformedEvent, "The model backend sent an event that is not a chat completion chunk.");
        }
    }

    private static ChatResponseUpdate ToUpdate(BackendChunk chunk, ToolCallAssembler toolCalls)
    {
        var update = new ChatResponseUpdate
        {
            Role = ChatRole.Assistant,
            ResponseId = chunk.Id,
            MessageId = chunk.Id,
            ModelId = chunk.Model,
            CreatedAt = chunk.Created is { } created ? DateTimeOffset.FromUnixTimeSeconds(created) : null,
        };

        if (chunk.Choices is [var choice, ..])
        {
            if (choice.Delta is { } delta)
            {
                if (!string.IsNullOrEmpty(delta.Content))
                {
                    update.Contents.Add(new TextContent(delta.Content));
                }

                toolCalls.Add(delta.ToolCalls);
            }

            if (choice.FinishReason is { } finishReason)
            {
                update.FinishReason = FinishReason(finishReason);
                toolCalls.MoveTo(update.Contents);
            }
        }

        if (chunk.Usage is { } usage)
        {
            update.Contents.Add(new UsageContent(new UsageDetails
            {
                InputTokenCount = usage.PromptTokens,
                OutputTokenCount = usage.CompletionTokens,
                TotalTokenCount = usage.TotalTokens,
                CachedInputTokenCount = usage.PromptTokensDetails?.CachedTokens,
            }));
        }

        return update;
    }

    private static ChatFinishReason FinishReason(string reason) => reason switch
    {
        "stop" => ChatFinishReason.Stop,
        "length" => ChatFinishReason.Length,
        "tool_calls" or "function_call" => ChatFinishReason.ToolCalls,
        "content_filter" => ChatFinishReason.ContentFilter,
        _ => new ChatFinishReason(reason),
    };
}
