namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// llama.cpp's llama-server as a container: the compose deployment's backend, built from containers/llama-cpp. Its
/// <see cref="ServedModel"/> may be a compose variable reference (<c>${LLMAPP_SERVED_MODEL}</c>), so that the
/// gateway and llama-server follow what <c>.env</c> says.
/// </summary>
public sealed class LlamaCppContainerResource(string name, string servedModel, int contextLength)
    : ContainerResource(name), ILlmBackendResource
{
    internal const string HttpEndpointName = "http";

    private EndpointReference? _httpEndpoint;

    public string ServedModel { get; } = servedModel;

    public string Kind => "llamacpp";

    public int? ContextLength { get; } = contextLength;

    public EndpointReference HttpEndpoint => _httpEndpoint ??= new(this, HttpEndpointName);
}
