namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// An OpenAI-compatible inference server the gateway can sit in front of: llama-server as an executable or a
/// container, or vLLM. Whatever implements it, the gateway is wired to it the same way.
/// </summary>
public interface ILlmBackendResource : IResourceWithEndpoints, IResourceWithWaitSupport
{
    /// <summary>The model id clients send, and the backend serves under that alias.</summary>
    string ServedModel { get; }

    /// <summary>
    /// The gateway's <c>Backend:Kind</c> for it: <c>llamacpp</c> (slots from <c>/props</c>, tool calls emulated) or
    /// <c>openai</c> (any other OpenAI-compatible server: capacity from settings, tool calls its own).
    /// </summary>
    string Kind { get; }

    /// <summary>Tokens of context each request gets, when the backend's configuration fixes it.</summary>
    int? ContextLength { get; }

    /// <summary>
    /// Requests it runs at once, when it cannot say so itself (vLLM has no <c>/props</c>); null: the gateway learns it
    /// from the backend (llama-server's slots).
    /// </summary>
    int? Capacity => null;

    /// <summary>The Prometheus job its <c>/metrics</c> is scraped as (<c>llama-server</c>, <c>vllm</c>): the dashboard's queries name it.</summary>
    string MetricsJob => "llama-server";

    /// <summary>The endpoint whose <c>/v1</c> speaks OpenAI and whose <c>/health</c> tells readiness.</summary>
    EndpointReference HttpEndpoint { get; }
}
