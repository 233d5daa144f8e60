using LlmApp.AppHost.Setup;

var builder = DistributedApplication.CreateBuilder(args);

try
{
    var settings = LlmSettings.From(builder.Configuration);
    var (serverPath, model, embeddingModel) = await LlmSetup.PrepareAsync(settings);

    // The backend: swap this one line for a container or vLLM; the gateway does not change.
    var llm = builder.AddLlamaCpp("llm", serverPath, model, settings.LlamaCpp).WithRestartOnCrash();

    var gateway = builder.AddProject<Projects.LlmApp_Gateway>("gateway")
        .WithLlmBackend(llm)
        .WithGatewayPort(settings.GatewayPort)
        .WithHttpHealthCheck(GatewayBuilderExtensions.ReadinessPath);

    (string Job, EndpointReference Endpoint)[] scraped = [("llmapp-gateway", gateway.GetEndpoint("http")), ("llama-server", llm.Resource.HttpEndpoint)];

    // Retrieval's half: a second llama-server for /v1/embeddings, when Llm:EmbeddingModel names a model.
    if (embeddingModel is not null)
    {
        var embeddings = builder.AddLlamaCppEmbeddings("embeddings", serverPath, embeddingModel, settings).WithRestartOnCrash();
        gateway.WithEmbeddingBackend(embeddings, embeddingModel, settings);
        scraped = [.. scraped, ("llama-server-embeddings", embeddings.Resource.HttpEndpoint)];
    }

    builder.AddPrometheusIfInstalled("prometheus", settings, scraped);
}
catch (SetupException ex)
{
    Console.Error.WriteLine($"llmapp: error: {ex.Message}");
    return 1;
}

await builder.Build().RunAsync();
return 0;
