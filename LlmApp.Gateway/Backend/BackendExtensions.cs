using System.ClientModel;
using System.ClientModel.Primitives;
using LlmApp.Gateway.Resilience;
using LlmApp.Gateway.Streaming;
using LlmApp.Gateway.ToolCalling;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OpenAI;

namespace LlmApp.Gateway.Backend;

internal static class BackendExtensions
{
    public const string ChatClientName = "backend-chat";
    public const string HealthClientName = "backend-health";

    /// <summary>
    /// Registers the backend: validated options, an <see cref="IChatClient"/> that speaks OpenAI to it through
    /// Microsoft.Extensions.AI, and a readiness check on its <c>/health</c>.
    /// </summary>
    public static IHostApplicationBuilder AddLlmBackend(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<BackendOptions>()
            .Bind(builder.Configuration.GetSection(BackendOptions.SectionName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<BackendOptions>, BackendOptionsValidator>();

        builder.Services.AddHttpContextAccessor();
        builder.Services.AddTransient<AbortOnCancelHandler>();
        builder.Services.AddHttpClient(ChatClientName, (services, client) =>
            {
                // The GenerationWatchdog owns the deadlines; HttpClient's own 100 s default would cut long generations.
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            .AddHttpMessageHandler<AbortOnCancelHandler>()
            // A response disposed half-read is normally drained (up to 1 MB or 2 s) to reuse the connection: for a
            // stream whose client left, that keeps the backend generating for nobody. Close the connection instead.
            .ConfigurePrimaryHttpMessageHandler(services => new SocketsHttpHandler
            {
                MaxResponseDrainSize = 0,
                ConnectTimeout = services.GetRequiredService<IOptions<ResilienceOptions>>().Value.ConnectTimeout,
            })
            .AddBackendResilience();

        builder.Services.AddHttpClient(HealthClientName, (services, client) =>
            {
                client.BaseAddress = services.GetRequiredService<IOptions<BackendOptions>>().Value.Endpoint;
                client.Timeout = TimeSpan.FromSeconds(5);
            });

        builder.Services.AddOptions<ResilienceOptions>()
            .Bind(builder.Configuration.GetSection(ResilienceOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<BackendCapacity>();
        builder.Services.AddHostedService(services => services.GetRequiredService<BackendCapacity>());
        builder.Services.AddSingleton<AdmissionControl>();
        builder.Services.AddSingleton<BackendCircuit>();
        builder.Services.AddHostedService<BackendRecoveryProbe>();
        builder.Services.AddSingleton<ShutdownDrain>();
        builder.Services.Configure<HostOptions>(host =>
            host.ShutdownTimeout = builder.Configuration.GetSection(ResilienceOptions.SectionName).Get<ResilienceOptions>()?.DrainTimeout
                                   + TimeSpan.FromSeconds(5) ?? TimeSpan.FromSeconds(35));

        builder.Services.AddOptions<StreamingOptions>()
            .Bind(builder.Configuration.GetSection(StreamingOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddChatClient(CreateChatClient)
            .UseOpenTelemetry(configure: otel => otel.EnableSensitiveData = builder.Configuration.GetValue<bool>("Telemetry:LogContent"))
            .Use((inner, services) => services.GetRequiredService<IOptions<BackendOptions>>().Value.NativeToolCalls
                ? inner
                : new ConstrainedToolCallingChatClient(inner));

        builder.Services.AddHealthChecks().AddCheck<BackendHealthCheck>(BackendHealthCheck.Name);

        return builder;
    }

    private static IChatClient CreateChatClient(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<BackendOptions>>().Value;
        var httpClient = services.GetRequiredService<IHttpClientFactory>().CreateClient(ChatClientName);

        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = new Uri(options.Endpoint!, "v1"),
            Transport = new HttpClientPipelineTransport(httpClient),
            // Deadlines belong to the GenerationWatchdog (first token, idle, total); the SDK's own would cut long streams.
            NetworkTimeout = Timeout.InfiniteTimeSpan,
            // Retrying a generation is the gateway's decision (never after the first byte), not the SDK's.
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        };

        // llama-server ignores the key unless started with --api-key; the SDK insists on one.
        var credential = new ApiKeyCredential(string.IsNullOrEmpty(options.ApiKey) ? "unused" : options.ApiKey);

        return new OpenAIClient(credential, clientOptions)
            .GetChatClient(options.Model)
            .AsIChatClient();
    }
}
