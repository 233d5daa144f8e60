using LlmApp.AppHost.Compose;

namespace Aspire.Hosting;

public static class GrafanaContainerExtensions
{
    /// <summary>Grafana's own image, pinned: Debian 12 does not package Grafana.</summary>
    public const string Image = "grafana/grafana-oss";

    public const string Tag = "11.3.1";

    /// <summary>The compose profile that turns Grafana on: <c>docker compose --profile grafana up -d</c>.</summary>
    public const string Profile = "grafana";

    /// <summary>
    /// Adds Grafana with the Prometheus data source and the LlmApp dashboard provisioned from containers/grafana, off by
    /// default (a compose profile), on 127.0.0.1 of the machine.
    /// </summary>
    public static IResourceBuilder<ContainerResource> AddGrafanaContainer(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, IResourceBuilder<ContainerResource> prometheus)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddContainer(name, Image, Tag)
            .WithHttpEndpoint(targetPort: 3000, name: "http")
            .WithVolume("grafana-data", "/var/lib/grafana")
            .WaitForStart(prometheus)
            // Grafana's own image (pulled, so not run by this project's tests): its root file system stays writable.
            .WithComposeHardening([ComposeNetworks.Edge], readOnly: false)
            .PublishAsComposeService(service =>
            {
                service.Profiles.Add(Profile);
                service.Ports.Add("127.0.0.1:${LLMAPP_GRAFANA_PORT}:3000");
                // Relative to the repository root; the publisher writes them relative to the compose file.
                service.Volumes.Add("./containers/grafana/provisioning:/etc/grafana/provisioning:ro");
                service.Volumes.Add("./containers/grafana/llmapp-dashboard.json:/var/lib/grafana/dashboards/llmapp-dashboard.json:ro");
            })
            .WithComposeVariable("LLMAPP_GRAFANA_PORT", "3000",
                "Grafana (profile grafana) on 127.0.0.1 of this machine; it asks for a new admin password at the first login (admin/admin).");
    }
}
