using LlmApp.AppHost.Compose;
using LlmApp.AppHost.Settings;

namespace Aspire.Hosting;

public static class PrometheusContainerExtensions
{
    public const string Image = "llmapp-prometheus";

    public const int Port = 9090;

    /// <summary>
    /// Adds Prometheus as a container (Debian's package, with containers/prometheus/prometheus.yml scraping the gateway
    /// and each of <paramref name="backends"/>, with the SLO's alert rules), its data in a volume of its own, reachable
    /// from this machine only (an SSH tunnel away).
    /// </summary>
    public static IResourceBuilder<ContainerResource> AddPrometheusContainer(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, ComposeSettings settings, params IResourceBuilder<ILlmBackendResource>[] backends)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(backends);
        return builder.AddContainer(name, Image, "latest")
            // The backend job (llama-server or vllm) and its targets, which the image's entrypoint writes into
            // prometheus.yml: one per replica.
            .WithEnvironment("LLMAPP_BACKEND_JOB", backends[0].Resource.MetricsJob)
            .WithEnvironment("LLMAPP_BACKEND_TARGETS",
                string.Join(",", backends.Select(b => $"{b.Resource.Name}:{b.Resource.HttpEndpoint.EndpointAnnotation.TargetPort}")))
            .PublishAsComposeImage($"{Image}:latest", "./containers/prometheus")
            .WithHttpEndpoint(targetPort: Port, name: "http")
            .WithVolume("prometheus-data", "/prometheus")
            // The backend's key, for llama-server's /metrics (prometheus.yml names the file).
            .WithVolume(LlamaCppContainerBuilderExtensions.BackendKeyVolume, LlamaCppContainerBuilderExtensions.BackendKeyDirectory, isReadOnly: true)
            .WithComposeLimits(settings.PrometheusMemoryMiB, settings.PrometheusCpus)
            // Its entrypoint writes the configuration it runs with into /tmp.
            .WithComposeHardening([ComposeNetworks.Backend, ComposeNetworks.Edge])
            .WithBackendKeyGroup()
            .PublishAsComposeService(service =>
            {
                service.Ports.Add($"127.0.0.1:${{LLMAPP_PROMETHEUS_PORT}}:{Port}");
                service.HealthCheck = new ComposeHealthCheck
                {
                    Test = ["CMD", "curl", "-fsS", "-o", "/dev/null", $"http://127.0.0.1:{Port}/-/ready"],
                    StartPeriod = "30s",
                };
            })
            .WithComposeVariable("LLMAPP_PROMETHEUS_PORT", "9090", "Prometheus on 127.0.0.1 of this machine (ssh -L 9090:127.0.0.1:9090 to reach it).");
    }
}
