using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Which of the request's stop sequences ended an answer, as the backend said: llama-server in its <c>__verbose</c>
/// field, asked for only when the request has stop sequences (<see cref="BackendRequestWriter"/>), vLLM in its
/// choice's <c>stop_reason</c>. It rides on the finishing update's (and so the answer's) <c>AdditionalProperties</c>;
/// Anthropic's API reports it as <c>stop_reason: stop_sequence</c>. A finish without it was the model's own end.
/// </summary>
internal static class StopSequenceReport
{
    public const string Key = "llmapp.stop_sequence";

    public static void Set(ChatResponseUpdate update, string sequence) => (update.AdditionalProperties ??= [])[Key] = sequence;

    public static void Set(ChatResponse response, string sequence) => (response.AdditionalProperties ??= [])[Key] = sequence;

    public static string? Of(ChatResponseUpdate update) => Of(update.AdditionalProperties);

    public static string? Of(ChatResponse response) => Of(response.AdditionalProperties);

    private static string? Of(AdditionalPropertiesDictionary? properties) =>
        properties is not null && properties.TryGetValue(Key, out string? sequence) ? sequence : null;
}
