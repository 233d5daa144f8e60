namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// vLLM's OpenAI-compatible server as a container on an NVIDIA GPU. To the gateway it is an <c>openai</c> backend:
/// its capacity is <see cref="Capacity"/> (vLLM has no <c>/props</c>), it parses the model's tool calls itself, and
/// its errors come in OpenAI's shape.
/// </summary>
public sealed class VllmResource(string name, string servedModel, int contextLength, int capacity)
    : ContainerResource(name), ILlmBackendResource
{
    internal const string HttpEndpointName = "http";

    private EndpointReference? _httpEndpoint;

    public string ServedModel { get; } = servedModel;

    public string Kind => "openai";

    public int? ContextLength { get; } = contextLength;

    public int? Capacity { get; } = capacity;

    public string MetricsJob => "vllm";

    public EndpointReference HttpEndpoint => _httpEndpoint ??= new(this, HttpEndpointName);
}
