using LlmApp.AppHost.Compose;
using LlmApp.AppHost.Containers;
using LlmApp.AppHost.Settings;
using LlmApp.Models;

namespace Aspire.Hosting;

/// <summary>
/// LlmApp as the compose file for a server (the publish-compose step): the same services as containers, built from
/// containers/. Nothing is downloaded or built here: the models are checked against their services' memory limits and
/// fetched on the server, and the images' build contexts are staged when the file is written.
/// </summary>
internal sealed class ComposeAppResources : LlmAppResources
{
    private readonly ModelCatalog _catalog = ModelCatalog.Load();

    public ComposeAppResources(IDistributedApplicationBuilder builder, LlmSettings settings)
        : base(builder, settings)
    {
        builder.AddComposePublishing(ComposeTarget.For(settings));
        builder.AddContainerPreparation();
    }

    public override IResourceBuilder<ILlmBackendResource>[] AddLlamaCpp(string name) =>
        // Llm:LlamaCpp:Cuda gives its CUDA build.
        Builder.AddLlamaCppContainers(name, ComposeModels.Chat(Settings, _catalog), Settings).AsLlmBackends();

    public override IResourceBuilder<ILlmBackendResource>? AddEmbeddings(string name, IResourceBuilder<ProjectResource> gateway)
    {
        if (ComposeModels.Embedding(Settings, _catalog) is not { } model)
        {
            return null;
        }

        var embeddings = Builder.AddLlamaCppEmbeddingsContainer(name, model, Settings);
        gateway.WithEmbeddingBackend(embeddings, model.Entry, Settings);
        return AsBackend(embeddings.Resource);
    }

    public override void AddMonitoring(
        string name, IResourceBuilder<ProjectResource> gateway, IResourceBuilder<ILlmBackendResource>[] llm, IResourceBuilder<ILlmBackendResource>? embeddings)
    {
        var prometheus = Builder.AddPrometheusContainer(name, Settings.Compose, llm);
        Builder.AddGrafanaContainer("grafana", prometheus);
    }

    protected override IResourceBuilder<ProjectResource> RunsAs(IResourceBuilder<ProjectResource> gateway) => gateway.PublishAsGatewayContainer(Settings);
}
