using LlmApp.Gateway.Admission;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Configuration;
using LlmApp.Gateway.Observability;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Resilience;
using LlmApp.Gateway.Telemetry;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Hosting;

internal static class EmbeddingsExtensions
{
    /// <summary>
    /// The embeddings pipeline, the same shape as chat's, outermost first: gen_ai spans (Microsoft.Extensions.AI's
    /// OpenTelemetry generator, which names the operation <c>embeddings</c>), the gateway's metrics, then admission over
    /// each embedding server's own pipeline (its deadline, then its wire client). Registered whether or not an embedding
    /// model is served; the endpoint answers 404 before using it when none is.
    /// </summary>
    public static IHostApplicationBuilder AddEmbeddings(this IHostApplicationBuilder builder)
    {
        builder.Services.AddEmbeddingGenerator(services =>
            {
                var http = services.GetRequiredService<BackendConnections>().Invoker;
                var options = services.GetRequiredService<IOptions<EmbeddingsOptions>>().Value;
                var resilience = services.GetRequiredService<IOptions<ResilienceOptions>>().Value;
                var time = services.GetRequiredService<TimeProvider>();
                return new AdmissionEmbeddingGenerator(
                    services.GetRequiredService<AdmissionControl>(),
                    services.GetRequiredService<BackendPool>().All.Where(b => b.Operation == Operations.Embeddings).ToDictionary(
                        b => b, b => (IEmbeddingGenerator<EmbeddingInput, Embedding<float>>)new EmbeddingDeadlineGenerator(
                            new BackendEmbeddingGenerator(b, http, options), resilience, time)),
                    services.GetRequiredService<GatewayMetrics>(),
                    resilience,
                    time);
            })
            .UseOpenTelemetry()
            .Use((inner, services) => new GatewayTelemetryEmbeddingGenerator(inner, services.GetRequiredService<GatewayMetrics>(),
                services.GetRequiredService<TimeProvider>()));
        return builder;
    }
}
