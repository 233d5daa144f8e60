using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.AI;

namespace LlmApp.Tests.Gateway;

/// <summary>
/// Stands in for the backend in unit tests of the pipeline's middleware: it sends an update when the test says so, so
/// that a test can move a fake clock between tokens. The real backend's behaviour is covered end to end.
/// </summary>
internal sealed class ScriptedChatClient : IChatClient
{
    private readonly Channel<ChatResponseUpdate> _updates = Channel.CreateUnbounded<ChatResponseUpdate>();

    /// <summary>The token the middleware passed down: cancelled when a deadline fires.</summary>
    public CancellationToken CallToken { get; private set; }

    /// <summary>Whether the call has reached it.</summary>
    public bool Called { get; private set; }

    /// <summary>The messages and options of the call that reached it.</summary>
    public (IReadOnlyList<ChatMessage> Messages, ChatOptions? Options) Call { get; private set; }

    public void Send(ChatResponseUpdate update) => _updates.Writer.TryWrite(update);

    /// <summary>Ends the call with <paramref name="failure"/>, as a backend that fails does.</summary>
    public void Fail(Exception failure) => _updates.Writer.TryComplete(failure);

    public void End() => _updates.Writer.TryComplete();

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        CallToken = cancellationToken;
        Call = ([.. messages], options);
        Called = true;
        await foreach (var update in _updates.Reader.ReadAllAsync(cancellationToken))
        {
            yield return update;
        }
    }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose() => End();
}
