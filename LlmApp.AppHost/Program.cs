using LlmApp.AppHost.Settings;
using LlmApp.Models;

var builder = DistributedApplication.CreateBuilder(args);
try
{
    var settings = LlmSettings.From(builder.Configuration);
    // The same services either way: run on this machine (what they need made ready first), or, to publish, the compose file's containers.
    var app = await LlmAppResources.CreateAsync(builder, settings);

    // The backend, chosen here alone (Llm:Backend); whichever it is, the gateway and its clients do not change.
    var llm = settings.Backend == LlmBackend.Vllm ? builder.AddVllm("llm", settings.Vllm).AsLlmBackends() : app.AddLlamaCpp("llm");
    var gateway = app.AddGateway("gateway", llm);
    var embeddings = app.AddEmbeddings("embeddings", gateway);
    app.AddMonitoring("prometheus", gateway, llm, embeddings);
}
catch (SetupException ex)
{
    Console.Error.WriteLine($"llmapp: error: {ex.Message}");
    return 1;
}

await builder.Build().RunAsync();

// Non-zero when a publish step failed (see StepFailure).
return Environment.ExitCode;
