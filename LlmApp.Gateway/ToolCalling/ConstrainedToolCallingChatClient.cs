using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.ToolCalling;

/// <summary>
/// Tool calling for backends that cannot do it themselves (llama-server without <c>--jinja</c>, or any GGUF whose
/// chat template knows nothing of tools). The tools are described to the model in a system message and the
/// generation is constrained by a JSON schema (a grammar in llama.cpp) to calls of the declared tools, or under
/// <c>auto</c> to either calls or an answer (<see cref="ToolCallSchema"/>). The JSON that comes back is read as it is
/// generated (<see cref="EmulatedAnswerReader"/>): a streamed call reaches the client as OpenAI streams one, its
/// arguments in pieces, and a text answer as plain text. Earlier calls and results in the history are rewritten as
/// plain text, which every chat template accepts.
/// </summary>
public sealed class ConstrainedToolCallingChatClient(IChatClient innerClient) : DelegatingChatClient(innerClient)
{
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (!NeedsRewrite(messages, options, out var functions))
        {
            return await base.GetResponseAsync(messages, options, cancellationToken);
        }

        var (rewrittenMessages, rewrittenOptions) = Rewrite(messages, options, functions);
        var response = await base.GetResponseAsync(rewrittenMessages, rewrittenOptions, cancellationToken);
        if (functions is not { Count: > 0 } || response.Messages.LastOrDefault() is not { } message)
        {
            return response;
        }

        var reader = new EmulatedAnswerReader();
        var pieces = new List<AIContent>();
        reader.Read(message.Text, pieces);
        // The logprobs, if asked for, are those of the wrapper's tokens: they would describe text the client never sees.
        message.Contents = EmulatedAnswerReader.Gather(pieces);
        response.FinishReason = FinishReason(response.FinishReason, reader);
        return response;
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
        var (rewrittenMessages, rewrittenOptions) = Rewrite(messages, options, functions);
        var reader = functions is { Count: > 0 } ? new EmulatedAnswerReader() : null;
        await foreach (var update in base.GetStreamingResponseAsync(rewrittenMessages, rewrittenOptions, cancellationToken))
        {
            if (reader is not null)
            {
                var contents = new List<AIContent>();
                foreach (var content in update.Contents)
                {
                    switch (content)
                    {
                        case TextContent text:
                            reader.Read(text.Text, contents);
                            break;
                        case LogprobsContent:
                            // Those of the wrapper's tokens: see GetResponseAsync.
                            break;
                        default:
                            contents.Add(content);
                            break;
                    }
                }

                update.Contents = contents;
                update.FinishReason = FinishReason(update.FinishReason, reader);
            }

            yield return update;
        }
    }

    /// <summary>The messages and options as this client hands them to the backend: what the backend's context must hold.</summary>
    internal static (IEnumerable<ChatMessage> Messages, ChatOptions? Options) AsSent(IEnumerable<ChatMessage> messages, ChatOptions? options) =>
        NeedsRewrite(messages, options, out var functions) ? Rewrite(messages, options, functions) : (messages, options);

    /// <summary>A generation that stopped on its own after calls is a tool-call answer; one cut by max_tokens stays cut.</summary>
    private static ChatFinishReason? FinishReason(ChatFinishReason? reason, EmulatedAnswerReader reader) =>
        reason == ChatFinishReason.Stop && reader.CallCount > 0 ? ChatFinishReason.ToolCalls : reason;

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
        var mode = options?.ToolMode ?? ChatToolMode.Auto;
        // OpenAI's default: one or more calls in an answer.
        var parallel = options?.AllowMultipleToolCalls ?? true;
        var rewritten = new List<ChatMessage>();
        if (functions is { Count: > 0 })
        {
            rewritten.Add(new ChatMessage(ChatRole.System, Instructions(functions, mode, parallel)));
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
                rewrittenOptions.ResponseFormat = ChatResponseFormat.ForJsonSchema(ToolCallSchema.For(functions, mode, parallel), "tool_calls");
            }
        }

        return (rewritten, rewrittenOptions);
    }

    private static string Instructions(List<AIFunctionDeclaration> functions, ChatToolMode mode, bool parallel)
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

        var calls = parallel
            ? """{"tool_calls": [{"name": <function name>, "arguments": {...}}, ...]} (one or more calls)"""
            : """{"tool_calls": [{"name": <function name>, "arguments": {...}}]} (one call)""";
        text.Append(mode is AutoChatToolMode
            ? $"To call functions, reply with {calls}; to answer directly, reply with {{\"content\": <your answer>}}."
            : $"Reply with {calls}.");
        return text.ToString();
    }

    private static ChatMessage AsPlainText(ChatMessage message)
    {
        if (!message.Contents.Any(c => c is FunctionCallContent or FunctionResultContent))
        {
            return message.Role == ChatRole.Tool ? new ChatMessage(ChatRole.User, message.Text) : message;
        }

        var text = new StringBuilder(message.Text);
        var calls = new JsonArray();
        foreach (var content in message.Contents)
        {
            switch (content)
            {
                case FunctionCallContent call:
                    calls.Add(new JsonObject
                    {
                        [ToolCallSchema.NameProperty] = call.Name,
                        [ToolCallSchema.ArgumentsProperty] = ArgumentsNode(ToolCallArguments.Text(call)),
                    });
                    break;
                case FunctionResultContent result:
                    text.Append("Result of call ").Append(result.CallId).Append(": ").Append(result.Result?.ToString());
                    break;
            }
        }

        if (calls.Count > 0)
        {
            // As the model would have written the calls itself.
            text.Append(new JsonObject { [ToolCallSchema.ToolCallsProperty] = calls }.ToJsonString());
        }

        return new ChatMessage(message.Role == ChatRole.Tool ? ChatRole.User : message.Role, text.ToString());
    }

    private static JsonNode? ArgumentsNode(string arguments)
    {
        try
        {
            return JsonNode.Parse(arguments);
        }
        catch (JsonException)
        {
            // Arguments cut short: as the text they are.
            return JsonValue.Create(arguments);
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
