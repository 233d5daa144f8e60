using LlmApp.AppHost.Settings;
using LlmApp.AppHost.Setup;

namespace Aspire.Hosting;

/// <summary>LlmApp on this machine, as <c>dotnet run</c> of the AppHost starts it: llama-server and Prometheus as executables.</summary>
internal sealed class LocalAppResources : LlmAppResources
{
    private readonly LocalSetup _local;

    private LocalAppResources(IDistributedApplicationBuilder builder, LlmSettings settings, LocalSetup local)
        : base(builder, settings)
    {
        _local = local;
    }

    public static async Task<LlmAppResources> PrepareAsync(IDistributedApplicationBuilder builder, LlmSettings settings, CancellationToken cancellationToken)
    {
        // The keys file first: a wrong one is reported before a model download or a llama-server build.
        if (settings.ApiKeysFile is { Length: > 0 } keysFile)
        {
            ApiKeysFileCheck.Check(keysFile);
        }

        if (settings.Backend == LlmBackend.Vllm)
        {
            GpuCheck.EnsureNvidiaGpu(File.Exists, Environment.GetEnvironmentVariable("DOCKER_HOST"));
        }

        return new LocalAppResources(builder, settings, await LlmSetup.PrepareAsync(settings, cancellationToken));
    }

    public override IResourceBuilder<ILlmBackendResource>[] AddLlamaCpp(string name) =>
        // Several replicas: the gateway routes each conversation to the one holding its prefix in its cache.
        Builder.AddLlamaCppReplicas(name, _local.ServerPath, _local.Model, Settings.LlamaCpp).AsLlmBackends();

    public override IResourceBuilder<ILlmBackendResource>? AddEmbeddings(string name, IResourceBuilder<ProjectResource> gateway)
    {
        if (_local.EmbeddingModel is not { } model)
        {
            return null;
        }

        var embeddings = Builder.AddLlamaCppEmbeddings(name, _local.ServerPath, model, Settings).WithRestartOnCrash();
        gateway.WithEmbeddingBackend(embeddings, model.Entry, Settings);
        return AsBackend(embeddings.Resource);
    }

    public override void AddMonitoring(
        string name, IResourceBuilder<ProjectResource> gateway, IResourceBuilder<ILlmBackendResource>[] llm, IResourceBuilder<ILlmBackendResource>? embeddings)
    {
        (string Job, EndpointReference Endpoint)[] scraped =
        [
            ("llmapp-gateway", gateway.GetEndpoint(GatewayBuilderExtensions.ManagementEndpointName)),
            .. llm.Select(replica => (replica.Resource.MetricsJob, replica.Resource.HttpEndpoint)),
            .. embeddings is null ? [] : new[] { ("llama-server-embeddings", embeddings.Resource.HttpEndpoint) },
        ];
        Builder.AddPrometheusIfInstalled(name, Settings, scraped);
    }

    protected override IResourceBuilder<ProjectResource> RunsAs(IResourceBuilder<ProjectResource> gateway) =>
        gateway.WithApiKeys(Settings)
            // The project's build has no precompiled code: the JIT compiles the gateway as it runs, and with tiered PGO
            // every hot method goes through an instrumented tier first. Without it a fresh gateway's streamed token cost
            // 158 against 285 us of CPU and a small answer 759 against 1,641 us, with the same cost once warm (74 us a
            // token either way), side by side (README, "The first minutes of dotnet run"). The container runs its
            // published ReadyToRun code with the runtime's defaults.
            .WithEnvironment("DOTNET_TieredPGO", "0");
}
