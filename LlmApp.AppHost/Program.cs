using LlmApp.AppHost.Setup;

var builder = DistributedApplication.CreateBuilder(args);

try
{
    var settings = LlmSettings.From(builder.Configuration);
    var (serverPath, model) = await LlmSetup.PrepareAsync(settings);

    // The backend: swap this one line for a container or vLLM; the gateway does not change.
    var llm = builder.AddLlamaCpp("llm", serverPath, model, settings.LlamaCpp).WithRestartOnCrash();

    var gateway = builder.AddProject<Projects.LlmApp_Gateway>("gateway")
        .WithLlmBackend(llm)
        .WithGatewayPort(settings.GatewayPort)
        .WithHttpHealthCheck(GatewayBuilderExtensions.ReadinessPath);

    builder.AddPrometheusIfInstalled("prometheus", settings,
        ("llmapp-gateway", gateway.GetEndpoint("http")),
        ("llama-server", llm.Resource.HttpEndpoint));
}
catch (SetupException ex)
{
    Console.Error.WriteLine($"llmapp: error: {ex.Message}");
    return 1;
}

await builder.Build().RunAsync();
return 0;
