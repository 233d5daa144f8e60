namespace Aspire.Hosting;

public static class LlmBackendExtensions
{
    /// <summary>
    /// Points the gateway at an LLM backend: its name, kind, endpoint and served model reach the gateway as
    /// <c>Backend__Name</c>, <c>Backend__Kind</c>, <c>Backend__Endpoint</c> and <c>Backend__Model</c>, its key (if it has
    /// one) as <c>Backend__ApiKey</c>, and the gateway starts once the backend is healthy.
    /// </summary>
    public static IResourceBuilder<TGateway> WithLlmBackend<TGateway, TBackend>(
        this IResourceBuilder<TGateway> gateway, IResourceBuilder<TBackend> backend)
        where TGateway : IResourceWithEnvironment, IResourceWithWaitSupport
        where TBackend : ILlmBackendResource
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(backend);

        if (backend.Resource.ContextLength is { } contextLength)
        {
            gateway.WithEnvironment("Backend__ContextLength", contextLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return gateway
            .WithBackendKeyIn(backend.Resource, "Backend__ApiKey")
            .WithEnvironment("Backend__Name", backend.Resource.Name)
            .WithEnvironment("Backend__Kind", backend.Resource.Kind)
            .WithEnvironment("Backend__Endpoint", backend.Resource.HttpEndpoint)
            .WithEnvironment("Backend__Model", backend.Resource.ServedModel)
            .WithRelationship(backend.Resource, "Backend")
            // WaitFor takes a builder of IResource; builders are not covariant, so make one for the same resource.
            .WaitFor(gateway.ApplicationBuilder.CreateResourceBuilder<IResource>(backend.Resource));
    }
}
