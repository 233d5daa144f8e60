using LlmApp.AppHost.Compose;

namespace Aspire.Hosting;

public static class GrafanaContainerExtensions
{
    /// <summary>Grafana's own image, pinned: Debian 12 does not package Grafana.</summary>
    public const string Image = "grafana/grafana-oss";

    public const string Tag = "11.3.1";

    /// <summary>Where Grafana's admin password is mounted from <c>LLMAPP_GRAFANA_ADMIN_PASSWORD_FILE</c>.</summary>
    public const string PasswordFile = "/run/secrets/grafana-admin-password";

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
            // Its admin password from a file on the machine, never admin/admin: Grafana reads it through __FILE, and will
            // not start without one (its image's own entrypoint is /run.sh).
            .WithEnvironment("GF_SECURITY_ADMIN_PASSWORD__FILE", PasswordFile)
            .PublishAsComposeService(service =>
            {
                service.Profiles.Add(Profile);
                service.Volumes.Add($"${{LLMAPP_GRAFANA_ADMIN_PASSWORD_FILE:-/dev/null}}:{PasswordFile}:ro");
                service.Entrypoint.AddRange(["/bin/sh", "-c",
                    $"[ -s {PasswordFile} ] || {{ echo 'grafana: error: LLMAPP_GRAFANA_ADMIN_PASSWORD_FILE names no file with a password in it; " +
                    "put the admin password in a file readable by uid 472 and name it there.' >&2; exit 1; }; exec /run.sh"]);
                service.Ports.Add("127.0.0.1:${LLMAPP_GRAFANA_PORT}:3000");
                // Relative to the repository root; the publisher writes them relative to the compose file.
                service.Volumes.Add("./containers/grafana/provisioning:/etc/grafana/provisioning:ro");
                service.Volumes.Add("./containers/grafana/llmapp-dashboard.json:/var/lib/grafana/dashboards/llmapp-dashboard.json:ro");
            })
            .WithComposeVariable("LLMAPP_GRAFANA_PORT", "3000", "Grafana (profile grafana) on 127.0.0.1 of this machine.")
            .WithComposeVariable("LLMAPP_GRAFANA_ADMIN_PASSWORD_FILE", "",
                "A file on this machine holding Grafana's admin password (readable by uid 472); Grafana does not start without it.");
    }
}
