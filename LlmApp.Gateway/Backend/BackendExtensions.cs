using LlmApp.Gateway.Configuration;
using Microsoft.Extensions.Options;
using Polly;

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
        // Each backend's retries and circuit breaker, registered under its name: Polly's telemetry reports them (the
        // "Polly" meter's resilience.polly.* on /metrics, and its log lines), and BackendPool gives them out.
        builder.Services.AddSingleton<BackendCircuits>();
        builder.Services.AddResiliencePipelines<string>(context =>
        {
            var resilience = context.ServiceProvider.GetRequiredService<IOptions<ResilienceOptions>>().Value;
            var circuits = context.ServiceProvider.GetRequiredService<BackendCircuits>();
            foreach (var backend in BackendPool.Describe(context.ServiceProvider))
            {
                context.AddResiliencePipeline<HttpResponseMessage>(backend.Options.Name,
                    (pipeline, _) => BackendResilience.Configure(pipeline, resilience, circuits[backend.Options.Name]));
            }
        });
        builder.Services.AddSingleton(services => BackendPool.Create(services));

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
