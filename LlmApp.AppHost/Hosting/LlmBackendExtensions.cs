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
            gateway.WithEnvironment("Backend__ContextLength", Invariant(contextLength));
        }

        // A backend that cannot say how many requests it runs (vLLM) says it here; llama-server's slots are learned.
        // Its own setting, not Resilience:MaxConcurrentRequests, which the embedding server's slots would then follow.
        if (backend.Resource.Capacity is { } capacity)
        {
            gateway.WithEnvironment("Backend__Capacity", Invariant(capacity));
        }

        return gateway.WithBackendSection("Backend", backend.Resource);
    }

    /// <summary>
    /// The settings every backend section of the gateway has (<c>Backend</c>, <c>Embeddings</c>): <c>__Name</c>,
    /// <c>__Kind</c>, <c>__Endpoint</c>, <c>__Model</c> and, when the backend has a key, <c>__ApiKey</c>; and the gateway
    /// starts once the backend is healthy.
    /// </summary>
    internal static IResourceBuilder<TGateway> WithBackendSection<TGateway>(this IResourceBuilder<TGateway> gateway, string section, ILlmBackendResource backend)
        where TGateway : IResourceWithEnvironment, IResourceWithWaitSupport =>
        gateway
            .WithBackendKeyIn(backend, $"{section}__ApiKey")
            .WithEnvironment($"{section}__Name", backend.Name)
            .WithEnvironment($"{section}__Kind", backend.Kind)
            .WithEnvironment($"{section}__Endpoint", backend.HttpEndpoint)
            .WithEnvironment($"{section}__Model", backend.ServedModel)
            .WithRelationship(backend, section)
            // WaitFor takes a builder of IResource; builders are not covariant, so make one for the same resource.
            .WaitFor(gateway.ApplicationBuilder.CreateResourceBuilder<IResource>(backend));

    /// <summary>
    /// Points the gateway at replicas of one model: one replica is <see cref="WithLlmBackend"/>, as before; more become
    /// the gateway's list (<c>Backend__Backends__i__Name</c>, <c>__Endpoint</c>, <c>__ApiKey</c>), which it routes
    /// between by each conversation's prefix. The gateway starts once every replica is healthy.
    /// </summary>
    public static IResourceBuilder<TGateway> WithLlmBackends<TGateway, TBackend>(
        this IResourceBuilder<TGateway> gateway, params IResourceBuilder<TBackend>[] replicas)
        where TGateway : IResourceWithEnvironment, IResourceWithWaitSupport
        where TBackend : ILlmBackendResource
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(replicas);
        if (replicas.Length == 1)
        {
            return gateway.WithLlmBackend(replicas[0]);
        }

        var first = replicas[0].Resource;
        if (first.ContextLength is { } contextLength)
        {
            gateway.WithEnvironment("Backend__ContextLength", Invariant(contextLength));
        }

        gateway.WithEnvironment("Backend__Kind", first.Kind).WithEnvironment("Backend__Model", first.ServedModel);
        for (var i = 0; i < replicas.Length; i++)
        {
            var replica = replicas[i].Resource;
            if (replica.Capacity is { } capacity)
            {
                gateway.WithEnvironment($"Backend__Backends__{i}__Capacity", Invariant(capacity));
            }

            gateway.WithEnvironment($"Backend__Backends__{i}__Name", replica.Name)
                .WithEnvironment($"Backend__Backends__{i}__Endpoint", replica.HttpEndpoint)
                .WithBackendKeyIn(replica, $"Backend__Backends__{i}__ApiKey")

                .WithRelationship(replica, "Backend")
                .WaitFor(gateway.ApplicationBuilder.CreateResourceBuilder<IResource>(replica));
        }

        return gateway;
    }

    /// <summary>The backend as the gateway's list of one, whatever its resource type: what <see cref="WithLlmBackends"/> takes.</summary>
    public static IResourceBuilder<ILlmBackendResource>[] AsLlmBackends<TBackend>(this IResourceBuilder<TBackend> backend)
        where TBackend : ILlmBackendResource
    {
        ArgumentNullException.ThrowIfNull(backend);
        return [backend.ApplicationBuilder.CreateResourceBuilder<ILlmBackendResource>(backend.Resource)];
    }

    /// <summary>Replicas as the gateway's list, whatever their resource type.</summary>
    public static IResourceBuilder<ILlmBackendResource>[] AsLlmBackends<TBackend>(this IResourceBuilder<TBackend>[] replicas)
        where TBackend : ILlmBackendResource
    {
        ArgumentNullException.ThrowIfNull(replicas);
        return [.. replicas.SelectMany(replica => replica.AsLlmBackends())];
    }

    private static string Invariant(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
