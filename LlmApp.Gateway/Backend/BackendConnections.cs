namespace LlmApp.Gateway.Backend;

/// <summary>The connections to every backend, shared by the chat router and the embedding generator; disposed with the host.</summary>
internal sealed class BackendConnections(HttpMessageInvoker invoker) : IDisposable
{
    public HttpMessageInvoker Invoker { get; } = invoker;

    public void Dispose() => Invoker.Dispose();
}
