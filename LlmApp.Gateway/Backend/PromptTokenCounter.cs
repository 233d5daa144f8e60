using System.Text.Json;
using LlmApp.Gateway.OpenAI;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// A chat prompt's tokens as the backend counts them. llama-server: the chat template applied (<c>/apply-template</c>,
/// with the tools the template renders), then tokenized with its special tokens (<c>/tokenize</c>), as it does for a
/// completion. vLLM (the <c>openai</c> kind): its <c>/tokenize</c>, which takes the chat itself and answers its
/// <c>count</c>. Through the backend's own sender and resilience pipeline; its failures are the sender's.
/// </summary>
internal static class PromptTokenCounter
{
    /// <summary>The count, or null when the backend answered without one (a server whose <c>/tokenize</c> counts only text).</summary>
    public static async Task<int?> CountAsync(
        ModelBackend backend, HttpMessageInvoker http, IReadOnlyList<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (backend.Options.Kind != BackendKind.LlamaCpp)
        {
            using var counted = await PostAsync(backend, http, "tokenize", BackendRequestWriter.Write(messages, options, backend.Options.Model, stream: false),
                cancellationToken);
            return counted.RootElement.ValueKind == JsonValueKind.Object && counted.RootElement.TryGetProperty("count", out var count) &&
                count.TryGetInt32(out var tokens) ? tokens : null;
        }

        return await ApplyTemplateAsync(backend, http, messages, options, cancellationToken) is { } prompt
            ? await CountTextAsync(backend, http, prompt, cancellationToken)
            : null;
    }

    /// <summary>The prompt text llama-server makes of <paramref name="messages"/> with its chat template (<c>/apply-template</c>); null if it sent none.</summary>
    public static async Task<string?> ApplyTemplateAsync(
        ModelBackend backend, HttpMessageInvoker http, IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(backend);
        using var template = await PostAsync(backend, http, "apply-template", BackendRequestWriter.Write(messages, options, backend.Options.Model, stream: false),
            cancellationToken);
        return template.RootElement.TryGetProperty("prompt", out var prompt) && prompt.ValueKind == JsonValueKind.String ? prompt.GetString() : null;
    }

    /// <summary>The tokens of <paramref name="prompt"/>, a chat template's text, as llama-server reads a completion's (its special tokens parsed).</summary>
    public static async Task<int?> CountTextAsync(ModelBackend backend, HttpMessageInvoker http, string prompt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var tokenize = JsonSerializer.SerializeToUtf8Bytes(new TokenizeRequest(prompt, AddSpecial: true, ParseSpecial: true), OpenAIJsonContext.Wire.TokenizeRequest);
        using var tokens = await PostAsync(backend, http, "tokenize", tokenize, cancellationToken);
        return tokens.RootElement.TryGetProperty("tokens", out var list) && list.ValueKind == JsonValueKind.Array ? list.GetArrayLength() : null;
    }

    private static async Task<JsonDocument> PostAsync(ModelBackend backend, HttpMessageInvoker http, string path, byte[] body, CancellationToken cancellationToken)
    {
        using var response = await BackendSender.SendAsync(backend, http, new Uri(backend.Options.Endpoint!, path), body, closeConnection: false, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
    }
}
