using LlmApp.AppHost.Compose;
using LlmApp.AppHost.Containers;
using LlmApp.AppHost.Settings;
using LlmApp.AppHost.Setup;
using LlmApp.Models;

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

        // The backend, one line each; Llm:Backend chooses, and the gateway does not change. llama.cpp (Llm:LlamaCpp:Replicas
        // gives llm-1 ... llm-N, Llm:LlamaCpp:Cuda its CUDA build), or vLLM on an NVIDIA GPU (docker-compose.gpu.yml).
        var llm = settings.Backend == LlmBackend.Vllm
            ? builder.AddVllm("llm", settings.Vllm).AsLlmBackends()
            : builder.AddLlamaCppContainers("llm", ComposeModels.Chat(settings, catalog), settings).AsLlmBackends();

        gateway.WithLlmBackends(llm).PublishAsGatewayContainer(settings);
        if (ComposeModels.Embedding(settings, catalog) is { } embeddingModel)
        {
            var embeddings = builder.AddLlamaCppEmbeddingsContainer("embeddings", embeddingModel, settings);
            gateway.WithEmbeddingBackend(embeddings, embeddingModel.Entry, settings);
        }

        var prometheus = builder.AddPrometheusContainer("prometheus", settings.Compose, llm);
        builder.AddGrafanaContainer("grafana", prometheus);
        builder.AddComposePublishing(ComposeTarget.For(settings));
        builder.AddContainerPreparation();
    }
    else
    {
        // API keys first: a wrong keys file is reported before a model download or a llama-server build.
        gateway.WithApiKeys(settings);
        if (settings.Backend == LlmBackend.Vllm)
        {
            GpuCheck.EnsureNvidiaGpu(File.Exists, Environment.GetEnvironmentVariable("DOCKER_HOST"));
        }

        var local = await LlmSetup.PrepareAsync(settings);

        // The backend, one line each; Llm:Backend chooses, and the gateway does not change. llama-server (Llm:LlamaCpp:Replicas
        // runs several, between which the gateway routes each conversation to the one holding its prefix), or vLLM in
        // a container on this machine's NVIDIA GPU.
        var llm = settings.Backend == LlmBackend.Vllm
            ? builder.AddVllm("llm", settings.Vllm).AsLlmBackends()
            : builder.AddLlamaCppReplicas("llm", local.ServerPath, local.Model, settings.LlamaCpp).AsLlmBackends();

        gateway.WithLlmBackends(llm);
        (string Job, EndpointReference Endpoint)[] scraped =
        [
            ("llmapp-gateway", gateway.GetEndpoint(GatewayBuilderExtensions.ManagementEndpointName)),
            .. llm.Select(replica => (replica.Resource.MetricsJob, replica.Resource.HttpEndpoint)),
        ];

        // Retrieval's half: a second llama-server for /v1/embeddings, when Llm:EmbeddingModel names a model.
        if (local.EmbeddingModel is { } embeddingModel)
        {
            var embeddings = builder.AddLlamaCppEmbeddings("embeddings", local.ServerPath, embeddingModel, settings).WithRestartOnCrash();
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
