using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Reads an OpenAI-compatible SSE stream into <see cref="ChatResponseUpdate"/>s, and holds it to its word: an
/// error event, an event that does not parse, or a stream that ends without a finish reason is a failure, thrown
/// as one, so that a cut answer can never pass for a whole one. The usage event's counts, with llama-server's timings,
/// also go to <c>usageSeen</c>, for the backend's <see cref="BackendSpeed"/>; llama-server's prompt progress, when it
/// was asked for, goes to <c>promptCount</c> and no further.
/// </summary>
internal static class BackendStreamReader
{
    public static async IAsyncEnumerable<ChatResponseUpdate> ReadAsync(Stream body, Action<BackendUsage>? usageSeen, PromptCount? promptCount,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var parser = new BackendEventParser();
        var events = SseParser.Create(body, (_, data) => Parse(parser, data));
        var finished = false;
        await foreach (var item in events.EnumerateAsync(cancellationToken))
        {
            var backendEvent = item.Data;
            if (backendEvent.Done)
            {
                break;
            }

            if (backendEvent.Error is { } error)
            {
                throw new BackendFailureException(BackendFault.ErrorEvent, string.IsNullOrWhiteSpace(error) ? "The model backend failed mid-answer." : error);
            }

            if (backendEvent.Usage is { } usage)
            {
                usageSeen?.Invoke(usage);
            }

            if (backendEvent.Progress is { } progress)
            {
                // Prompt progress, asked for to count the prompt up front: no token yet, so nothing goes on (the
                // first-token timeout and time to first token count from the first real event, as without it).
                promptCount?.Set(progress.Total, progress.Cached);
                if (backendEvent is { Content: null, FinishReason: null, ToolCalls: null, Usage: null })
                {
                    continue;
                }
            }

            var update = ToUpdate(backendEvent, toolCalls: null);
            finished |= update.FinishReason is not null;
            yield return update;
        }

        if (!finished)
        {
            throw new IncompleteResponseException("The model backend's stream ended before it gave a finish reason.");
        }
    }

    /// <summary>A whole answer (<c>chat.completion</c>), held to the same word: an error or no finish reason is a failure.</summary>
    public static ChatResponse ReadOne(ReadOnlySpan<byte> body, Action<BackendUsage>? usageSeen)
    {
        var answer = Parse(new BackendEventParser(), body);
        if (answer.Usage is { } usage)
        {
            usageSeen?.Invoke(usage);
        }

        if (answer.Error is { } error)
        {
            throw new BackendFailureException(BackendFault.ErrorEvent, string.IsNullOrWhiteSpace(error) ? "The model backend failed." : error);
        }

        var update = ToUpdate(answer, new ToolCallAssembler());
        if (update.FinishReason is null)
        {
            throw new IncompleteResponseException("The model backend's answer has no finish reason.");
        }

        var response = new[] { update }.ToChatResponse();
        if (answer.StopSequence is { } stopSequence)
        {
            StopSequenceReport.Set(response, stopSequence);
        }

        return response;
    }

    private static BackendEvent Parse(BackendEventParser parser, ReadOnlySpan<byte> data)
    {
        try
        {
            return parser.Parse(data);
        }
        catch (JsonException)
        {
            throw new BackendFailureException(BackendFault.MalformedEvent, "The model backend sent an event that is not a chat completion chunk.");
        }
    }

    /// <summary>
    /// The event as an update. A stream's tool-call deltas pass on as they came (<see cref="FunctionCallUpdateContent"/>),
    /// so that the client sees each call's arguments arrive; a whole answer's calls are gathered by
    /// <paramref name="toolCalls"/> into <see cref="FunctionCallContent"/>s.
    /// </summary>
    private static ChatResponseUpdate ToUpdate(in BackendEvent backendEvent, ToolCallAssembler? toolCalls)
    {
        var update = new ChatResponseUpdate
        {
            Role = ChatRole.Assistant,
            ResponseId = backendEvent.Id,
            MessageId = backendEvent.Id,
            ModelId = backendEvent.Model,
            CreatedAt = backendEvent.Created is { } created ? DateTimeOffset.FromUnixTimeSeconds(created) : null,
        };

        if (!string.IsNullOrEmpty(backendEvent.Content))
        {
            update.Contents.Add(new TextContent(backendEvent.Content));
        }

        if (backendEvent.Logprobs is { } logprobs)
        {
            update.Contents.Add(new LogprobsContent(logprobs));
        }

        if (toolCalls is not null)
        {
            toolCalls.Add(backendEvent.ToolCalls);
        }
        else if (backendEvent.ToolCalls is { } deltas)
        {
            foreach (var delta in deltas)
            {
                update.Contents.Add(new FunctionCallUpdateContent(delta.Index, delta.Id, delta.Name, delta.Arguments));
            }
        }

        if (backendEvent.FinishReason is { } finishReason)
        {
            update.FinishReason = FinishReason(finishReason);
            toolCalls?.MoveTo(update.Contents);
            if (backendEvent.StopSequence is { } stopSequence)
            {
                StopSequenceReport.Set(update, stopSequence);
            }
        }

        if (backendEvent.Usage is { } usage)
        {
            var details = new UsageDetails
            {
                InputTokenCount = usage.PromptTokens,
                OutputTokenCount = usage.CompletionTokens,
                TotalTokenCount = usage.TotalTokens,
                CachedInputTokenCount = usage.CachedTokens,
            };
            if (usage.GenerationMs is { } generation)
            {
                details.AdditionalCounts = new() { [BackendUsage.GenerationMicrosecondsKey] = (long)(generation * 1000) };
            }

            update.Contents.Add(new UsageContent(details));
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
