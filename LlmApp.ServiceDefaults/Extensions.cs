using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Cross-cutting defaults every LlmApp service shares: OpenTelemetry to the Aspire dashboard (OTLP)
/// and the health endpoints that orchestrators probe.
/// </summary>
public static class Extensions
{
    /// <summary>Liveness: the process is up and serving. Never depends on the backend.</summary>
    public const string LivenessPath = "/healthz";

    /// <summary>Readiness: every registered check passes, the LLM backend included.</summary>
    public const string ReadinessPath = "/readyz";

    /// <summary>Where Prometheus scrapes a service's metrics.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>
    /// Set on an outgoing request that is housekeeping (a health probe every second) to keep it out of the traces, so
    /// that the dashboard's Traces page shows the requests that matter.
    /// </summary>
    public static readonly HttpRequestOptionsKey<bool> Untraced = new("llmapp.untraced");

    private const string LiveTag = "live";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();

        // No blanket resilience handler here: the LLM backend's client streams for minutes and must not
        // be retried after the first byte, so it gets a pipeline of its own in the gateway.
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var otel = builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                // Microsoft.Extensions.AI's client-side gen_ai metrics would repeat the gateway's own (same names, other
                // labels) for every call to the backend; its spans are kept below.
                .AddMeter("LlmApp.*"));

        // Spans only where they go somewhere (the dashboard, a collector): made for nobody they still cost every request
        // its activities, tags and a heavier async context.
        if (builder.IsTracingEnabled())
        {
            otel.WithTracing(tracing => tracing
                    .AddSource(builder.Environment.ApplicationName)
                    .AddSource("Experimental.Microsoft.Extensions.AI*", "Microsoft.Extensions.AI*", "LlmApp.*")
                    // Health probes and Prometheus's scrapes arrive every few seconds, and a service's own probes of what
                    // it depends on every second; tracing them only buries the requests that matter (the ServiceDefaults
                    // template leaves health probes out the same way).
                    .AddAspNetCoreInstrumentation(tracing => tracing.Filter = context =>
                        !context.Request.Path.StartsWithSegments(LivenessPath) &&
                        !context.Request.Path.StartsWithSegments(ReadinessPath) &&
                        !context.Request.Path.StartsWithSegments(MetricsPath))
                    .AddHttpClientInstrumentation(tracing => tracing.FilterHttpRequestMessage = request =>
                        !request.Options.TryGetValue(Untraced, out var untraced) || !untraced))
                .UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// Whether spans go anywhere: an OTLP endpoint is set (the AppHost sets one for its dashboard). Work done only for
    /// spans, such as Microsoft.Extensions.AI's OpenTelemetry chat client, is left out of the pipeline otherwise.
    /// </summary>
    public static bool IsTracingEnabled(this IHostApplicationBuilder builder) =>
        !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);

        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // Mapped in every environment: the EC2 deployment probes them as much as the dashboard does.
        app.MapHealthChecks(LivenessPath, new HealthCheckOptions { Predicate = check => check.Tags.Contains(LiveTag) });
        app.MapHealthChecks(ReadinessPath);

        return app;
    }
}
