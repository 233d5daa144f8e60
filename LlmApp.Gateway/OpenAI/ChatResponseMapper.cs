using System.Text.Json;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.OpenAI;

/// <summary>Maps Microsoft.Extensions.AI results back onto OpenAI's wire shapes.</summary>
internal static class ChatResponseMapper
{
    public static ChatCompletionResponse ToCompletion(ChatResponse response, string model)
    {
        var message = response.Messages.LastOrDefault();
        var toolCalls = ToolCalls(message?.Contents);
        var text = message?.Text;
        var content = toolCalls is not null && string.IsNullOrEmpty(text) ? null : text ?? "";

        return new ChatCompletionResponse(
            Id: CompletionId(response.ResponseId),
            Created: (response.CreatedAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds(),
            Model: model,
            Choices: [new ChatCompletionChoice(0, new ChatCompletionResponseMessage(content, toolCalls),
                FinishReason(response.FinishReason ?? throw new ArgumentException("The response has no finish reason.", nameof(response)), toolCalls),
                Logprobs(message?.Contents))],
            Usage: Usage(response.Usage));
    }

    /// <summary>The backend's logprobs object, as it sent it; null when the request did not ask for logprobs.</summary>
    private static JsonElement? Logprobs(IEnumerable<AIContent>? contents)
    {
        if (contents?.OfType<LogprobsContent>().FirstOrDefault() is not { } logprobs)
        {
            return null;
        }

        using var document = JsonDocument.Parse(logprobs.Json);
        return document.RootElement.Clone();
    }

    public static string CompletionId(string? backendId) =>
        backendId is { Length: > 0 } ? backendId : $"chatcmpl-{Guid.NewGuid():N}";

    public static string FinishReason(ChatFinishReason reason, IReadOnlyList<ToolCall>? toolCalls = null)
    {
        if (reason == ChatFinishReason.Length)
        {
            return "length";
        }

        if (reason == ChatFinishReason.ContentFilter)
        {
            return "content_filter";
        }

        return reason == ChatFinishReason.ToolCalls || toolCalls is not null ? "tool_calls" : "stop";
    }

    /// <summary>
    /// The calls as a whole answer's message carries them: id, type and function, and no <c>index</c>, which OpenAI
    /// sends only in a stream's deltas (the streamer adds it).
    /// </summary>
    public static IReadOnlyList<ToolCall>? ToolCalls(IEnumerable<AIContent>? contents)
    {
        List<ToolCall>? calls = null;
        foreach (var call in contents?.OfType<FunctionCallContent>() ?? [])
        {
            calls ??= [];
            calls.Add(new ToolCall
            {
                Id = call.CallId,
                Type = "function",
                Function = new FunctionCall
                {
                    Name = call.Name,
                    Arguments = ToolCallArguments.Text(call),
                },
            });
        }

        return calls;
    }

    /// <summary>The backend's counts in OpenAI's shape; null when it did not count both, since usage is never made up.</summary>
    public static CompletionUsage? Usage(UsageDetails? usage)
    {
        if (usage is not { InputTokenCount: { } prompt, OutputTokenCount: { } completion })
        {
            return null;
        }

        // Totals that add up, whatever the backend reported as its total.
        return new CompletionUsage((int)prompt, (int)completion, (int)(prompt + completion),
            usage.CachedInputTokenCount is { } cached ? new PromptTokensDetails((int)cached) : null);
    }
}
