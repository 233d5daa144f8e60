using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// The bottom of the chat pipeline: sends each call to the backend that admission chose for it
/// (<see cref="ChatCall.Backend"/>), or to the only one there is.
/// </summary>
internal sealed class BackendRouter(BackendPool pool, HttpMessageInvoker http) : IChatClient
{
    private readonly Dictionary<string, BackendChatClient> _clients =
        pool.All.ToDictionary(b => b.Name, b => new BackendChatClient(b, http), StringComparer.Ordinal);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        Route(options).GetResponseAsync(messages, options, cancellationToken);

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        Route(options).GetStreamingResponseAsync(messages, options, cancellationToken);

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
        // The connections belong to BackendConnections.
    }

    private BackendChatClient Route(ChatOptions? options)
    {
        var name = options.GetCall()?.Backend ?? pool.All[0].Name;
        return _clients.TryGetValue(name, out var client) ? client : throw new InvalidOperationException($"There is no backend named '{name}'.");
    }
}
