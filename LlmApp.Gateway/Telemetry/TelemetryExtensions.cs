using LlmApp.Gateway.Configuration;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using LlmApp.Gateway.Observability;

namespace LlmApp.Gateway.Telemetry;

internal static class TelemetryExtensions
{
    public const string MetricsPath = Extensions.MetricsPath;

    /// <summary>The gateway's GenAI metrics, exported for Prometheus at <c>/metrics</c> besides OTLP to the dashboard.</summary>
    public static IHostApplicationBuilder AddGatewayTelemetry(this IHostApplicationBuilder builder)
    {
        builder.AddSettings<TelemetryOptions>(TelemetryOptions.SectionName);
        builder.AddSettings<ManagementOptions>(ManagementOptions.SectionName);
        builder.Services.AddSingleton<GatewayMetrics>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(GatewayMetrics.MeterName)
            // Polly's telemetry of the backends' pipelines: its events (retries, the circuit opening and closing). Its
            // durations are in milliseconds, which Prometheus's conventions refuse, and duplicate the gateway's own.
            .AddMeter("Polly")
            .AddView("resilience.polly.pipeline.duration", MetricStreamConfiguration.Drop)
            .AddView("resilience.polly.strategy.attempt.duration", MetricStreamConfiguration.Drop)
            // Three .NET runtime gauges end in "count", which Prometheus reserves for histograms and summaries
            // (promtool check metrics flags them); give them names it accepts.
            .AddView("dotnet.assembly.count", new MetricStreamConfiguration { Name = "dotnet.assemblies.loaded" })
            .AddView("dotnet.process.cpu.count", new MetricStreamConfiguration { Name = "dotnet.process.cpus" })
            .AddView("dotnet.timer.count", new MetricStreamConfiguration { Name = "dotnet.timers" })
            // Kestrel counts every buffer it rents and returns, which is several measurements for every streamed token:
            // measured at a few µs a token, for bytes nobody graphs. Dropped, so the SDK does not even listen to them.
            .AddView("aspnetcore.memory_pool.*", MetricStreamConfiguration.Drop)
            .AddPrometheusExporter());
        return builder;
    }

    /// <summary>
    /// Serves <c>/metrics</c> without authentication, as llama-server serves its own: it holds counts and timings only
    /// (no prompt, user or key in any label). With <c>Management:Port</c> set it answers only on connections that arrived
    /// on that port, which a deployment keeps on its private network; on the API's port it is 404, whatever the request's
    /// Host header says (a host-based route would match <c>Host: x:9464</c> sent to the public port).
    /// </summary>
    public static WebApplication MapGatewayMetrics(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<ManagementOptions>>().Value.Port is > 0 and var port)
        {
            app.UseOpenTelemetryPrometheusScrapingEndpoint(context =>
                context.Connection.LocalPort == port && context.Request.Path.Equals(MetricsPath, StringComparison.OrdinalIgnoreCase));
        }
        else
        {
            app.MapPrometheusScrapingEndpoint(MetricsPath);
        }

        return app;
    }

    /// <summary>One log line per request to this endpoint, named <paramref name="operation"/> (see <see cref="RequestLogFilter"/>).</summary>
    public static RouteHandlerBuilder WithRequestLog(this RouteHandlerBuilder endpoint, string operation) =>
        endpoint.AddEndpointFilterFactory((factory, next) =>
        {
            var services = factory.ApplicationServices;
            var filter = new RequestLogFilter(operation, services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<ILoggerFactory>().CreateLogger(RequestLogFilter.Category));
            return invocation => filter.InvokeAsync(invocation, next);
        });
}
