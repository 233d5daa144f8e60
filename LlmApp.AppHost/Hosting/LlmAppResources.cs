using LlmApp.AppHost.Settings;

namespace Aspire.Hosting;

/// <summary>
/// The services LlmApp is made of, made the way this run of the AppHost needs them: <see cref="LocalAppResources"/>
/// runs them on this machine (llama-server and Prometheus as executables, the gateway as its project), and
/// <see cref="ComposeAppResources"/> describes them as the compose file's containers. Program.cs adds the same services,
/// in the same words, either way; only how each is made differs.
/// </summary>
public abstract class LlmAppResources(IDistributedApplicationBuilder builder, LlmSettings settings)
{
    protected IDistributedApplicationBuilder Builder { get; } = builder;

    protected LlmSettings Settings { get; } = settings;

    /// <summary>
    /// The resources for this run: to publish, the compose file's (nothing is downloaded or built); otherwise this
    /// machine's, once what they need is ready (the keys file checked, the model downloaded, llama-server built).
    /// </summary>
    public static async Task<LlmAppResources> CreateAsync(IDistributedApplicationBuilder builder, LlmSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        return builder.ExecutionContext.IsPublishMode
            ? new ComposeAppResources(builder, settings)
            : await LocalAppResources.PrepareAsync(builder, settings, cancellationToken);
    }

    /// <summary>llama.cpp's llama-server serving the chat model: <c>Llm:LlamaCpp:Replicas</c> of them (llm-1 ... llm-N), or one.</summary>
    public abstract IResourceBuilder<ILlmBackendResource>[] AddLlamaCpp([ResourceName] string name);

    /// <summary>
    /// The gateway in front of <paramref name="llm"/>: the same project either way, on its ports, ready when its
    /// backend is, with its API keys as this run takes them (the settings here, the server's <c>.env</c> in compose).
    /// </summary>
    public IResourceBuilder<ProjectResource> AddGateway([ResourceName] string name, IResourceBuilder<ILlmBackendResource>[] llm)
    {
        var gateway = Builder.AddProject<Projects.LlmApp_Gateway>(name)
            .WithGatewayPort(Settings.GatewayPort)
            .WithManagementPort(Settings.ManagementPort)
            .WithHttpHealthCheck(GatewayBuilderExtensions.ReadinessPath)
            .WithObjectives(Settings.TtftObjectiveMs, Settings.MinTokensPerSecond)
            .WithResumedAnswers()
            .WithLlmBackends(llm);
        return RunsAs(gateway);
    }

    /// <summary>The second llama-server, for <c>/v1/embeddings</c>, when <c>Llm:EmbeddingModel</c> names a model; the gateway is pointed at it.</summary>
    public abstract IResourceBuilder<ILlmBackendResource>? AddEmbeddings([ResourceName] string name, IResourceBuilder<ProjectResource> gateway);

    /// <summary>Prometheus scraping the gateway and the model servers, with the SLO's alert rules (and, in compose, Grafana).</summary>
    public abstract void AddMonitoring(
        [ResourceName] string name, IResourceBuilder<ProjectResource> gateway, IResourceBuilder<ILlmBackendResource>[] llm,
        IResourceBuilder<ILlmBackendResource>? embeddings);

    /// <summary>How this mode runs the gateway: its keys, and on this machine its runtime's settings, in compose its container.</summary>
    protected abstract IResourceBuilder<ProjectResource> RunsAs(IResourceBuilder<ProjectResource> gateway);

    /// <summary>A backend resource as the gateway's wiring takes it, whatever its type.</summary>
    protected IResourceBuilder<ILlmBackendResource> AsBackend(ILlmBackendResource backend) => Builder.CreateResourceBuilder(backend);
}
