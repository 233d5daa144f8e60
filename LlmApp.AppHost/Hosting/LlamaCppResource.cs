namespace Aspire.Hosting.ApplicationModel;

/// <summary>llama.cpp's llama-server running as a native executable (Metal on macOS, CPU elsewhere).</summary>
public sealed class LlamaCppResource(string name, string command, string workingDirectory, string servedModel, int contextLength)
    : ExecutableResource(name, command, workingDirectory), ILlmBackendResource
{
    internal const string HttpEndpointName = "http";

    private EndpointReference? _httpEndpoint;

    public string ServedModel { get; } = servedModel;

    public string Kind => "llamacpp";

    public int? ContextLength { get; } = contextLength;

    public EndpointReference HttpEndpoint => _httpEndpoint ??= new(this, HttpEndpointName);
}
