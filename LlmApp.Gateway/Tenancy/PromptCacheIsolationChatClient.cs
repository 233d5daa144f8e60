using System.Runtime.CompilerServices;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Tenancy;

/// <summary>
/// <c>Backend:PromptCacheIsolation</c> as a layer of the chat pipeline, above the tool-call emulation so that it sees
/// the client's own messages: it marks each call with what the backend may use of its prompt cache for the call's key,
/// and, once an answer came back whole, remembers that the key had that conversation answered (<see cref="PromptCacheScope"/>).
/// </summary>
internal sealed class PromptCacheIsolationChatClient(IChatClient innerClient, PromptCacheScope scope) : DelegatingChatClient(innerClient)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        if (options.GetCall() is not { } call || !scope.IsEnabled)
        {
            return await base.GetResponseAsync(list, options, cancellationToken);
        }

        scope.Apply(call.Key, list, options!);
        var response = await base.GetResponseAsync(list, options, cancellationToken);
        if (response.FinishReason is not null)
        {
            scope.Answered(call.Key, list);
        }

        return response;
    }

    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        // Shared (the default): the inner stream itself, with no layer on every token.
        scope.IsEnabled && options.GetCall() is { } call
            ? IsolatedStreamingResponseAsync(call, messages as IReadOnlyList<ChatMessage> ?? [.. messages], options!, cancellationToken)
            : base.GetStreamingResponseAsync(messages, options, cancellationToken);

    private async IAsyncEnumerable<ChatResponseUpdate> IsolatedStreamingResponseAsync(
        CallContext call, IReadOnlyList<ChatMessage> list, ChatOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        scope.Apply(call.Key, list, options);
        var finished = false;
        await foreach (var update in base.GetStreamingResponseAsync(list, options, cancellationToken))
        {
            finished |= update.FinishReason is not null;
            yield return update;
        }

        if (finished)
        {
            scope.Answered(call.Key, list);
        }
    }
}

public static class PromptCacheIsolationChatClientBuilderExtensions
{
    /// <summary>Adds <c>Backend:PromptCacheIsolation</c> (see <see cref="PromptCacheIsolationChatClient"/>) to the chat pipeline.</summary>
    public static ChatClientBuilder UsePromptCacheIsolation(this ChatClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use((inner, services) => services.GetRequiredService<PromptCacheScope>() is { IsEnabled: true } scope
            ? new PromptCacheIsolationChatClient(inner, scope)
            : inner);
    }
}
