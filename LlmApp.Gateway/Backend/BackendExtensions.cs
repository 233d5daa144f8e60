using LlmApp.Gateway.Configuration;
using Microsoft.Extensions.Options;
using LlmApp.Gateway.Pipeline;

namespace LlmApp.Gateway.Backend;

internal static class BackendExtensions
{
    /// <summary>
    /// Registers the backend: its validated settings, its runtime state (<see cref="BackendPool"/>), the
    /// <c>IChatClient</c> that that speaks OpenAI to it, the monitor that probes it, and a readiness
    /// check that reports what the monitor saw.
    /// </summary>
    public static IHostApplicationBuilder AddLlmBackend(this IHostApplicationBuilder builder)
    {
        builder.AddSettings<BackendOptions>(BackendOptions.SectionName);
        builder.Services.AddSingleton<IValidateOptions<BackendOptions>, BackendOptionsValidator>();
        builder.AddSettings<EmbeddingsOptions>(EmbeddingsOptions.SectionName);
        builder.Services.AddSingleton(services =>
        {
            var options = services.GetRequiredService<IOptions<BackendOptions>>().Value;
            var embeddings = services.GetRequiredService<IOptions<EmbeddingsOptions>>().Value;
            var resilience = services.GetRequiredService<IOptions<ResilienceOptions>>().Value;
            List<ModelBackend> backends =
            [
                .. options.Resolve().Select(b => BackendResilience.Create(b.Options.Name, Operations.Chat, b.Options, resilience, b.Capacity)),
            ];
            if (embeddings.IsEnabled)
            {
                // Probed, admitted and broken-circuited like the chat backend, for embeddings only.
                backends.Add(BackendResilience.Create(embeddings.Name, Operations.Embeddings, embeddings.ToBackendOptions(), resilience));
            }

            return new BackendPool(backends);
        });

        builder.Services.AddSingleton(services => new BackendConnections(new HttpMessageInvoker(new SocketsHttpHandler
            {
                ConnectTimeout = services.GetRequiredService<IOptions<ResilienceOptions>>().Value.ConnectTimeout,
                // A response disposed half-read is normally drained (up to 1 MB or 2 s) to reuse the connection: for a
                // stream whose client left, that keeps the backend generating for nobody. Close the connection instead.
                MaxResponseDrainSize = 0,
                // llama-server and vLLM (uvicorn) close a connection after 5 s without a request: one idle for longer
                // than this is not reused, so that a request never goes out on a connection the server is closing.
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(3),
            })));

        builder.Services.AddHttpClient(BackendMonitor.ProbeClientName, client => client.Timeout = BackendMonitor.ProbeTimeout)
            // A probe a second would bury every other line of the log; failures are logged by the monitor itself.
            .RemoveAllLoggers();
        builder.Services.AddHostedService<BackendMonitor>();
        builder.Services.AddHealthChecks().AddCheck<BackendHealthCheck>(BackendHealthCheck.Name);
        return builder;
    }
}
