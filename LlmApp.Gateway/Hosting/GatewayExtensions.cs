using LlmApp.Gateway.Admission;
using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Configuration;
using LlmApp.Gateway.Limits;
using LlmApp.Gateway.Proxies;
using LlmApp.Gateway.Quotas;
using LlmApp.Gateway.Resilience;
using LlmApp.Gateway.Streaming;
using LlmApp.Gateway.Tenancy;
using LlmApp.Gateway.Telemetry;
using LlmApp.Gateway.ToolCalling;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using LlmApp.Gateway.Observability;
using LlmApp.Gateway.Pipeline;

namespace LlmApp.Gateway.Hosting;

internal static class GatewayExtensions
{
    /// <summary>
    /// Everything the gateway runs on: settings validated at start, API keys, the backend, admission, and the chat pipeline a
    /// request goes through, outermost first.
    /// </summary>
    public static IHostApplicationBuilder AddGatewayServices(this IHostApplicationBuilder builder)
    {
        builder.AddSettings<ResilienceOptions>(ResilienceOptions.SectionName);
        builder.AddSettings<StreamingOptions>(StreamingOptions.SectionName);
        builder.AddSettings<SloOptions>(SloOptions.SectionName);
        builder.AddRequestLimits();
        builder.AddTrustedProxies();
        builder.AddApiKeys();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ShutdownDrain>();
        // In-flight answers get the drain window after SIGTERM, and a little more to end with an error event.
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<ResilienceOptions>>((host, resilience) =>
        {
            try
            {
                host.ShutdownTimeout = resilience.Value.DrainTimeout + TimeSpan.FromSeconds(5);
            }
            catch (OptionsValidationException)
            {
                // Reported, with every other bad setting, by the start-up validation that follows.
            }
        });

        builder.AddLlmBackend();
        builder.Services.AddSingleton<AdmissionControl>();
        builder.Services.AddSingleton<KeyQuotas>();
        builder.Services.AddSingleton<PromptCacheScope>();
        builder.AddGatewayTelemetry();

        // The bottom: admission, over each chat backend's own pipeline (its deadlines, then its wire client).
        builder.Services.AddSingleton(services =>
        {
            var http = services.GetRequiredService<BackendConnections>().Invoker;
            return new AdmissionChatClient(
                services.GetRequiredService<AdmissionControl>(),
                services.GetRequiredService<BackendPool>().All.Where(b => b.Operation == Operations.Chat).ToDictionary(
                    b => b, b => new ChatClientBuilder(new BackendChatClient(b, http)).UseGenerationDeadlines().Build(services)),
                services.GetRequiredService<GatewayMetrics>(),
                services.GetRequiredService<IOptions<ResilienceOptions>>().Value,
                services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<ILoggerFactory>().CreateLogger<AdmissionChatClient>());
        });

        var tracing = builder.IsTracingEnabled();
        builder.Services.AddChatClient(services => services.GetRequiredService<AdmissionChatClient>())
            // gen_ai spans for the dashboard; message text on them only with Telemetry:LogContent. No logger: it would log
            // each failure again, with a stack trace, after the gateway's own one-line warning. Only where spans go
            // somewhere: the client keeps every streamed update, and rebuilds the whole answer at the end, for its span.
            .Use((inner, services) => tracing
                ? new OpenTelemetryChatClient(inner)
                {
                    EnableSensitiveData = services.GetRequiredService<IOptions<TelemetryOptions>>().Value.LogContent,
                }
                : inner)
            .UseGatewayTelemetry()
            .UsePromptCacheIsolation()
            .UseToolCallEmulation(services => services.GetRequiredService<IOptions<BackendOptions>>().Value.CallsToolsItself)
            // Under the emulation, so that it counts the prompt as it will be sent.
            .UseContextWindow();
        builder.AddEmbeddings();
        return builder;
    }
}
