using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.ToolCalling;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Limits;

/// <summary>
/// Refuses a prompt that cannot fit the backend's context (llama-server's context per slot) with 400
/// <c>context_length_exceeded</c> before it takes a slot, as OpenAI does. Counting tokens costs a call to the backend,
/// so it is done only when size cannot rule overflow out: a token covers at least one byte of the prompt's UTF-8 text,
/// so a prompt of B bytes is at most B tokens, plus what the chat template adds around each message. Nearly every
/// request is ruled out on its character count alone, without a byte being counted. At most
/// <c>Limits:MaxConcurrentTokenCounts</c> prompts are counted at once; one that finds them all taken is left to the
/// backend, which checks the length itself on intake, instead of waiting on, or adding to, its HTTP threads.
/// </summary>
internal sealed partial class ContextWindow(BackendConnections connections, BackendPool pool, IOptions<RequestLimitsOptions> limits, ILogger<ContextWindow> logger)
    : IDisposable
{
    // What a chat template adds, in tokens: a preamble (Llama 3.1's dates) and each message's role header and end.
    private const int TemplateTokens = 64;
    private const int TemplateTokensPerMessage = 16;

    // The fixed part of the tool-emulation instructions, beyond each function's name, description and schema.
    private const int ToolInstructionTokens = 256;

    private readonly ModelBackend[] _chat = [.. pool.All.Where(b => b.Operation == Operations.Chat)];

    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    private readonly SemaphoreSlim _counting = new(limits.Value.MaxConcurrentTokenCounts);

    public void Dispose() => _counting.Dispose();

    /// <summary>The refusal, or null when the prompt fits or its size cannot be learned (the backend then decides).</summary>
    public async Task<GatewayFailure?> CheckAsync(MappedChatRequest request, CancellationToken cancellationToken)
    {
        // Replicas serve one model with one template: any of them counts alike, a live one if there is one.
        var backend = Array.Find(_chat, b => b.IsHealthy)?.Options ?? _chat.FirstOrDefault()?.Options;
        if (backend is null || backend.Kind != BackendKind.LlamaCpp || backend.ContextLength is not { } context)
        {
            // vLLM checks the length itself while it takes the request in, before the request holds anything.
            return null;
        }

        // UTF-16 to UTF-8 is at most 3 bytes a character. The cheap bound first, on the request as it came: the tools
        // count at 3 bytes a character of their names, descriptions and schemas, whether the backend renders them or
        // the gateway's emulation writes them into its instructions.
        var allowance = TemplateTokens + (TemplateTokensPerMessage * (long)request.Messages.Count) + ToolBytes(request.Options);
        if ((3 * request.PromptCharacters) + allowance + ToolInstructionTokens < context)
        {
            return null;
        }

        // Near the limit: the messages as the backend will get them, and their exact bytes.
        var (messages, sentOptions) = backend.CallsToolsItself
            ? (request.Messages, request.Options)
            : ConstrainedToolCallingChatClient.AsSent(request.Messages, request.Options);
        if (Utf8Bytes(messages) + TemplateTokens + (TemplateTokensPerMessage * (long)request.Messages.Count) + ToolBytes(sentOptions) < context)
        {
            return null;
        }

        if (!_counting.Wait(0, CancellationToken.None))
        {
            LogCountSkipped(logger, backend.Name);
            return null;
        }

        int? tokens;
        try
        {
            tokens = await CountAsync(backend, messages, sentOptions, cancellationToken);
        }
        finally
        {
            _counting.Release();
        }

        return tokens >= context
            ? GatewayFailure.InvalidRequest(
                $"This model's maximum context length is {context} tokens. However, your messages resulted in {tokens} tokens, which exceeds the " +
                "available context size. Please reduce the length of the messages.", "messages", "context_length_exceeded")
            : null;
    }

    private static long Utf8Bytes(IEnumerable<ChatMessage> messages)
    {
        long bytes = 0;
        foreach (var message in messages)
        {
            foreach (var content in message.Contents)
            {
                bytes += content switch
                {
                    TextContent text => Encoding.UTF8.GetByteCount(text.Text),
                    FunctionCallContent call => Encoding.UTF8.GetByteCount(call.Name) + Encoding.UTF8.GetByteCount(call.RawRepresentation as string ?? ""),
                    FunctionResultContent result => Encoding.UTF8.GetByteCount(result.Result?.ToString() ?? ""),
                    _ => 0,
                };
            }
        }

        return bytes;
    }

    /// <summary>Tools the backend renders into the prompt itself (native tool calls): their names, descriptions and schemas.</summary>
    private static long ToolBytes(ChatOptions? options) =>
        options?.Tools?.OfType<AIFunctionDeclaration>().Sum(f =>
            (3L * (f.Name.Length + (f.Description?.Length ?? 0))) + f.JsonSchema.GetRawText().Length * 3L) ?? 0;

    /// <summary>
    /// The prompt's tokens as llama-server counts them: the chat template applied (<c>/apply-template</c>), then
    /// tokenized with its special tokens (<c>/tokenize</c>), as it does for a completion. Null if either call fails.
    /// </summary>
    private async Task<int?> CountAsync(BackendOptions backend, IEnumerable<ChatMessage> messages, ChatOptions? sentOptions, CancellationToken cancellationToken)
    {
        try
        {
            using var template = await PostAsync(backend, "apply-template", BackendRequestWriter.Write(messages, sentOptions, backend.Model, stream: false),
                cancellationToken);
            if (template?.RootElement.TryGetProperty("prompt", out var prompt) != true || prompt.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            var tokenize = JsonSerializer.SerializeToUtf8Bytes(
                new TokenizeRequest(prompt.GetString()!, AddSpecial: true, ParseSpecial: true), OpenAIJsonContext.Wire.TokenizeRequest);
            using var tokens = await PostAsync(backend, "tokenize", tokenize, cancellationToken);
            return tokens?.RootElement.TryGetProperty("tokens", out var list) == true && list.ValueKind == JsonValueKind.Array
                ? list.GetArrayLength()
                : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogCountFailed(logger, backend.Name, ex.Message);
            return null;
        }
    }

    private async Task<JsonDocument?> PostAsync(BackendOptions backend, string path, byte[] body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(backend.Endpoint!, path))
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = s_json } },
        };
        if (backend.ApiKey is { Length: > 0 } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        using var response = await connections.Invoker.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            LogCountFailed(logger, backend.Name, $"/{path} answered {(int)response.StatusCode}");
            return null;
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Left a long prompt's length to backend {Backend}: Limits:MaxConcurrentTokenCounts prompts are being counted")]
    private static partial void LogCountSkipped(ILogger logger, string backend);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not count a long prompt's tokens on backend {Backend} ({Problem}); the backend checks its length itself.")]
    private static partial void LogCountFailed(ILogger logger, string backend, string problem);
}
