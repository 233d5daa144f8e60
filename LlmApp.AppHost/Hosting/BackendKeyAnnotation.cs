namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// The key an LLM backend takes requests with (llama-server's <c>--api-key</c>): the gateway, Prometheus and anything
/// else that calls it look here for the key to send.
/// </summary>
public sealed class BackendKeyAnnotation(ParameterResource key) : IResourceAnnotation
{
    public ParameterResource Key { get; } = key;
}
