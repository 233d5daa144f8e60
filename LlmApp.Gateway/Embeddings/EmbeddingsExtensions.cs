using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Telemetry;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Embeddings;

internal static class EmbeddingsExtensions
{
    /// <summary>
    /// The embeddings pipeline, outermost first: gen_ai spans (Microsoft.Extensions.AI's OpenTelemetry generator, which
    /// names the operation <c>embeddings</c>), the gateway's metrics, then the embedding server. Registered whether or not
    /// an embedding model is served; the endpoint answers 404 before using it when none is.
    /// </summary>
    public static IHostApplicationBuilder AddEmbeddings(this IHostApplicationBuilder builder)
    {
        builder.Services.AddEmbeddingGenerator(services =>
            {
                var pool = services.GetRequiredService<BackendPool>();
                var backend = pool.All.FirstOrDefault(b => b.Operation == Operations.Embeddings)
                    ?? throw new InvalidOperationException("No embedding model is served: set Llm:EmbeddingModel.");
                return new BackendEmbeddingGenerator(backend, services.GetRequiredService<BackendConnections>().Invoker,
                    services.GetRequiredService<IOptions<EmbeddingsOptions>>().Value);
            })
            .UseOpenTelemetry()
            .Use((inner, services) => new GatewayTelemetryEmbeddingGenerator(inner, services.GetRequiredService<GatewayMetrics>(),
                services.GetRequiredService<TimeProvider>()));
        return builder;
    }
}
