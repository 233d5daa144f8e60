using System.Text;
using System.Text.Json;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Limits;

/// <summary>
/// Refuses a prompt that cannot fit the backend's context (llama-server's context per slot) with 400
/// <c>context_length_exceeded</c> before it takes a slot, as OpenAI does. A layer under the tool-call emulation, so it
/// sees the messages and options as they will be sent, instructions and schemas included. Counting tokens costs a call
/// to the backend, so it is done only when size cannot rule overflow out: a token covers at least one byte of the
/// prompt's UTF-8 text, so a prompt of B bytes is at most B tokens, plus what the chat template adds around each
/// message. Nearly every request is ruled out on its character count alone. The count goes through the backend's own
/// sender and resilience pipeline, and at most <c>Limits:MaxConcurrentTokenCounts</c> at once: a prompt that finds them
/// all taken is left to the backend, which checks the length itself on intake, rather than waiting on, or adding to,
/// its HTTP threads. vLLM checks the length itself before it takes a request in: for it this layer does nothing.
/// </summary>
internal sealed partial class ContextWindowChatClient : DelegatingChatClient
{
    // What a chat template adds, in tokens: a preamble (Llama 3.1's dates) and each message's role header and end.
    private const int TemplateTokens = 64;
    private const int TemplateTokensPerMessage = 16;

    private readonly ModelBackend[] _chat;
    private readonly HttpMessageInvoker _http;
    private readonly SemaphoreSlim _counting;
    private readonly ILogger _logger;

    public ContextWindowChatClient(IChatClient innerClient, BackendPool pool, HttpMessageInvoker http, RequestLimitsOptions limits, ILogger logger)
        : base(innerClient)
    {
        _chat = [.. pool.All.Where(b => b.Operation == Operations.Chat)];
        _http = http;
        _counting = new SemaphoreSlim(limits.MaxConcurrentTokenCounts);
        _logger = logger;
    }

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        if (ToCount(list, options) is { } count)
        {
            await CheckAsync(count, list, options, cancellationToken);
        }

        return await base.GetResponseAsync(list, options, cancellationToken);
    }

    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        // Nearly every prompt is ruled out by its size alone: then the inner stream itself, with no layer on every token.
        return ToCount(list, options) is { } count
            ? CheckedStreamingResponseAsync(count, list, options, cancellationToken)
            : base.GetStreamingResponseAsync(list, options, cancellationToken);
    }

    private async IAsyncEnumerable<ChatResponseUpdate> CheckedStreamingResponseAsync(
        (ModelBackend Backend, int Context) count, IReadOnlyList<ChatMessage> messages, ChatOptions? options,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await CheckAsync(count, messages, options, cancellationToken);
        await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            yield return update;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _counting.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>
    /// The backend to count the prompt on, and its context, when the prompt's size does not rule it out (a byte is at
    /// most a token); null when it fits whatever it counts to, or no backend can count it.
    /// </summary>
    private (ModelBackend Backend, int Context)? ToCount(IReadOnlyList<ChatMessage> messages, ChatOptions? options)
    {
        // Replicas serve one model with one template: any of them counts alike, a live one if there is one.
        var backend = Array.Find(_chat, b => b.IsHealthy) ?? _chat.FirstOrDefault();
        if (backend is null || backend.Options.Kind != BackendKind.LlamaCpp || backend.Options.ContextLength is not { } context)
        {
            return null;
        }

        // UTF-16 to UTF-8 is at most 3 bytes a character: the cheap bound first, then the exact bytes.
        var allowance = TemplateTokens + (TemplateTokensPerMessage * (long)messages.Count) + ToolBytes(options);
        return (3 * Characters(messages)) + allowance < context || Utf8Bytes(messages) + allowance < context ? null : (backend, context);
    }

    /// <summary>Throws <see cref="InvalidCallException"/> (context_length_exceeded) when the prompt cannot fit; returns when it fits or its size cannot be learned.</summary>
    private async Task CheckAsync(
        (ModelBackend Backend, int Context) count, IReadOnlyList<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        var (backend, context) = count;
        if (!_counting.Wait(0, CancellationToken.None))
        {
            LogCountSkipped(_logger, backend.Name);
            return;
        }

        int? tokens;
        try
        {
            tokens = await CountAsync(backend, messages, options, cancellationToken);
        }
        finally
        {
            _counting.Release();
        }

        if (tokens >= context)
        {
            throw InvalidCallException.ContextLengthExceeded(context, tokens.Value);
        }
    }

    private static long Characters(IReadOnlyList<ChatMessage> messages)
    {
        long characters = 0;
        foreach (var message in messages)
        {
            foreach (var content in message.Contents)
            {
                characters += content switch
                {
                    TextContent text => text.Text.Length,
                    FunctionCallContent call => call.Name.Length + ((call.RawRepresentation as string)?.Length ?? 0),
                    FunctionResultContent result => result.Result?.ToString()?.Length ?? 0,
                    _ => 0,
                };
            }
        }

        return characters;
    }

    private static long Utf8Bytes(IReadOnlyList<ChatMessage> messages)
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

    /// <summary>The prompt's tokens as llama-server counts them (<see cref="PromptTokenCounter"/>); null if it cannot say.</summary>
    private async Task<int?> CountAsync(ModelBackend backend, IReadOnlyList<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        try
        {
            return await PromptTokenCounter.CountAsync(backend, _http, messages, options, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or BackendFailureException or Polly.CircuitBreaker.BrokenCircuitException
                                       or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogCountFailed(_logger, backend.Name, ex.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Left a long prompt's length to backend {Backend}: Limits:MaxConcurrentTokenCounts prompts are being counted")]
    private static partial void LogCountSkipped(ILogger logger, string backend);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not count a long prompt's tokens on backend {Backend} ({Problem}); the backend checks its length itself.")]
    private static partial void LogCountFailed(ILogger logger, string backend, string problem);
}

public static class ContextWindowChatClientBuilderExtensions
{
    /// <summary>Adds the context check (see <see cref="ContextWindowChatClient"/>) to the chat pipeline.</summary>
    public static ChatClientBuilder UseContextWindow(this ChatClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use((inner, services) => new ContextWindowChatClient(
            inner,
            services.GetRequiredService<BackendPool>(),
            services.GetRequiredService<BackendConnections>().Invoker,
            services.GetRequiredService<IOptions<RequestLimitsOptions>>().Value,
            services.GetRequiredService<ILoggerFactory>().CreateLogger<ContextWindowChatClient>()));
    }
}
