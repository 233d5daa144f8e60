using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.ToolCalling;

/// <summary>
/// Tool calling for backends that cannot do it themselves (llama-server without <c>--jinja</c>, or any GGUF whose
/// chat template knows nothing of tools). The tools are described to the model in a system message and the
/// generation is constrained by a JSON schema (a grammar in llama.cpp) to one call of a declared tool, or under
/// <c>auto</c> to either a call or an answer; the JSON that comes back is turned into a proper tool call.
/// Earlier calls and results in the history are rewritten as plain text, which every chat template accepts.
/// </summary>
/// <remarks>
/// The constrained output is JSON, so it cannot be streamed token by token as readable text: with tools, a
/// streaming request receives the call (or answer) in one piece when it is complete.
/// </remarks>
public sealed class ConstrainedToolCallingChatClient(IChatClient innerClient) : DelegatingChatClient(innerClient)
{
    // Arguments hold JsonElements and primitives; M.E.AI's options know how to write both.
    private static readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo<IDictionary<string, object?>> s_arguments =
        (System.Text.Json.Serialization.Metadata.JsonTypeInfo<IDictionary<string, object?>>)AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>));

    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (!NeedsRewrite(messages, options, out var functions))
        {
            return await base.GetResponseAsync(messages, options, cancellationToken);
        }

        var (rewrittenMessages, rewrittenOptions) = Rewrite(messages, options, functions);
        var response = await base.GetResponseAsync(rewrittenMessages, rewrittenOptions, cancellationToken);
        return functions is { Count: > 0 } ? ToToolCall(response) : response;
    }

    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        // Nothing to do without tools: the inner stream itself, with no layer added to every token.
        NeedsRewrite(messages, options, out var functions)
            ? RewrittenStreamingResponseAsync(messages, options, functions, cancellationToken)
            : base.GetStreamingResponseAsync(messages, options, cancellationToken);

    private async IAsyncEnumerable<ChatResponseUpdate> RewrittenStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options, List<AIFunctionDeclaration>? functions,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (functions is not { Count: > 0 })
        {
            // Only the history needs rewriting: the answer itself still streams.
            var (rewrittenMessages, rewrittenOptions) = Rewrite(messages, options, functions);
            await foreach (var update in base.GetStreamingResponseAsync(rewrittenMessages, rewrittenOptions, cancellationToken))
            {
                yield return update;
            }

            yield break;
        }

        var response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    private static bool NeedsRewrite(IEnumerable<ChatMessage> messages, ChatOptions? options, out List<AIFunctionDeclaration>? functions)
    {
        functions = options is { Tools.Count: > 0 } && options.ToolMode is not NoneChatToolMode
            ? [.. options.Tools.OfType<AIFunctionDeclaration>()]
            : null;
        return functions is { Count: > 0 } ||
               messages.Any(m => m.Role == ChatRole.Tool || m.Contents.Any(c => c is FunctionCallContent or FunctionResultContent)) ||
               options is { Tools.Count: > 0 };
    }

    private static (List<ChatMessage>, ChatOptions?) Rewrite(IEnumerable<ChatMessage> messages, ChatOptions? options, List<AIFunctionDeclaration>? functions)
    {
        var rewritten = new List<ChatMessage>();
        if (functions is { Count: > 0 })
        {
            rewritten.Add(new ChatMessage(ChatRole.System, Instructions(functions, options!.ToolMode ?? ChatToolMode.Auto)));
        }

        foreach (var message in messages)
        {
            rewritten.Add(AsPlainText(message));
        }

        var rewrittenOptions = options?.Clone();
        if (rewrittenOptions is not null)
        {
            rewrittenOptions.Tools = null;
            rewrittenOptions.ToolMode = null;
            rewrittenOptions.AllowMultipleToolCalls = null;
            if (functions is { Count: > 0 })
            {
                rewrittenOptions.ResponseFormat = ChatResponseFormat.ForJsonSchema(
                    ToolCallSchema.For(functions, options!.ToolMode ?? ChatToolMode.Auto), "tool_call");
            }
        }

        return (rewritten, rewrittenOptions);
    }

    private static string Instructions(List<AIFunctionDeclaration> functions, ChatToolMode mode)
    {
        var text = new StringBuilder("You can call these functions:\n");
        foreach (var function in functions)
        {
            text.Append("- ").Append(function.Name);
            if (!string.IsNullOrWhiteSpace(function.Description))
            {
                text.Append(": ").Append(function.Description);
            }

            text.Append("\n  parameters: ").Append(function.JsonSchema.GetRawText()).Append('\n');
        }

        text.Append(mode is AutoChatToolMode
            ? """To call a function, reply with {"name": <function name>, "arguments": {...}}; to answer directly, reply with {"content": <your answer>}."""
            : """Reply with the function call as {"name": <function name>, "arguments": {...}}.""");
        return text.ToString();
    }

    private static ChatMessage AsPlainText(ChatMessage message)
    {
        if (!message.Contents.Any(c => c is FunctionCallContent or FunctionResultContent))
        {
            return message.Role == ChatRole.Tool ? new ChatMessage(ChatRole.User, message.Text) : message;
        }

        var text = new StringBuilder(message.Text);
        foreach (var content in message.Contents)
        {
            switch (content)
            {
                case FunctionCallContent call:
                    var json = new JsonObject
                    {
                        [ToolCallSchema.NameProperty] = call.Name,
                        [ToolCallSchema.ArgumentsProperty] = JsonSerializer.SerializeToNode(
                            call.Arguments ?? new Dictionary<string, object?>(), s_arguments),
                    };
                    text.Append(json.ToJsonString());
                    break;
                case FunctionResultContent result:
                    text.Append("Result of call ").Append(result.CallId).Append(": ").Append(result.Result?.ToString());
                    break;
            }
        }

        return new ChatMessage(message.Role == ChatRole.Tool ? ChatRole.User : message.Role, text.ToString());
    }

    private static ChatResponse ToToolCall(ChatResponse response)
    {
        var message = response.Messages.LastOrDefault();
        if (message is null || !TryParse(message.Text, out var name, out var arguments, out var content))
        {
            // Cut short (max_tokens) before the JSON closed: return what was generated, as generated.
            return response;
        }

        if (name is null)
        {
            message.Contents = [new TextContent(content)];
            return response;
        }

        message.Contents = [new FunctionCallContent($"call_{Guid.NewGuid():N}"[..29], name, arguments)];
        response.FinishReason = ChatFinishReason.ToolCalls;
        return response;
    }

    private static bool TryParse(string text, out string? name, out IDictionary<string, object?>? arguments, out string? content)
    {
        name = null;
        arguments = null;
        content = null;
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            if (root.TryGetProperty(ToolCallSchema.NameProperty, out var n) && n.ValueKind == JsonValueKind.String &&
                root.TryGetProperty(ToolCallSchema.ArgumentsProperty, out var a) && a.ValueKind == JsonValueKind.Object)
            {
                name = n.GetString();
                arguments = a.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
                return true;
            }

            if (root.TryGetProperty(ToolCallSchema.ContentProperty, out var c) && c.ValueKind == JsonValueKind.String)
            {
                content = c.GetString();
                return true;
            }

            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

public static class ConstrainedToolCallingChatClientBuilderExtensions
{
    /// <summary>
    /// Emulates tool calling with schema-constrained generation (<see cref="ConstrainedToolCallingChatClient"/>),
    /// unless <paramref name="backendCallsTools"/> says the backend calls tools itself.
    /// </summary>
    public static ChatClientBuilder UseToolCallEmulation(this ChatClientBuilder builder, Func<IServiceProvider, bool> backendCallsTools)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(backendCallsTools);
        return builder.Use((inner, services) => backendCallsTools(services) ? inner : new ConstrainedToolCallingChatClient(inner));
    }
}
