using LlmApp.AppHost.Compose;
using LlmApp.AppHost.Containers;
using LlmApp.AppHost.Models;
using LlmApp.AppHost.Setup;

var builder = DistributedApplication.CreateBuilder(args);

try
{
    var settings = LlmSettings.From(builder.Configuration);
    var gateway = builder.AddProject<Projects.LlmApp_Gateway>("gateway")
        .WithGatewayPort(settings.GatewayPort)
        .WithManagementPort(settings.ManagementPort)
        .WithHttpHealthCheck(GatewayBuilderExtensions.ReadinessPath);

    if (builder.ExecutionContext.IsPublishMode)
    {
        // docker-compose.yml for a server (the publish-compose step): the same services, as containers. Nothing is
        // downloaded or built here: the images build from containers/, the model is fetched on the server.
        var catalog = ModelCatalog.Load();

        // The backend: swap this one line for vLLM; the gateway does not change. Llm:LlamaCpp:Replicas gives llm-1 ... llm-N.
        var llm = builder.AddLlamaCppContainers("llm", ComposeModels.Chat(settings, catalog), settings);

        gateway.WithLlmBackends(llm).PublishAsGatewayContainer(settings.Compose);
        if (ComposeModels.Embedding(settings, catalog) is { } embeddingModel)
        {
            var embeddings = builder.AddLlamaCppEmbeddingsContainer("embeddings", embeddingModel, settings);
            gateway.WithEmbeddingBackend(embeddings, embeddingModel.Entry, settings);
        }

        var prometheus = builder.AddPrometheusContainer("prometheus", settings.Compose, llm);
        builder.AddGrafanaContainer("grafana", prometheus);
        builder.AddComposePublishing();
        builder.AddContainerPreparation();
    }
    else
    {
        // API keys first: a wrong keys file is reported before a model download or a llama-server build.
        gateway.WithApiKeys(settings);
        var (serverPath, model, embeddingModel) = await LlmSetup.PrepareAsync(settings);

        // The backend: swap this one line for a container or vLLM; the gateway does not change. Llm:LlamaCpp:Replicas
        // runs several llama-servers, between which the gateway routes each conversation to the one holding its prefix.
        var llm = builder.AddLlamaCppReplicas("llm", serverPath, model, settings.LlamaCpp);

        gateway.WithLlmBackends(llm);
        (string Job, EndpointReference Endpoint)[] scraped =
        [
            ("llmapp-gateway", gateway.GetEndpoint(GatewayBuilderExtensions.ManagementEndpointName)),
            .. llm.Select(replica => ("llama-server", replica.Resource.HttpEndpoint)),
        ];

        // Retrieval's half: a second llama-server for /v1/embeddings, when Llm:EmbeddingModel names a model.
        if (embeddingModel is not null)
        {
            var embeddings = builder.AddLlamaCppEmbeddings("embeddings", serverPath, embeddingModel, settings).WithRestartOnCrash();
            gateway.WithEmbeddingBackend(embeddings, embeddingModel.Entry, settings);
            scraped = [.. scraped, ("llama-server-embeddings", embeddings.Resource.HttpEndpoint)];
        }

        builder.AddPrometheusIfInstalled("prometheus", settings, scraped);
    }
}
catch (SetupException ex)
{
    Console.Error.WriteLine($"llmapp: error: {ex.Message}");
    return 1;
}

await builder.Build().RunAsync();

// Non-zero when a publish step failed (see StepFailure).
return Environment.ExitCode;
