using LlmApp.AppHost.Compose;
using LlmApp.AppHost.Setup;

namespace Aspire.Hosting;

public static class GatewayContainerExtensions
{
    public const string Image = "llmapp-gateway";

    /// <summary>The port the gateway listens on in its container (the image sets ASPNETCORE_HTTP_PORTS to it).</summary>
    public const int Port = 8080;

    /// <summary>
    /// Publishes the gateway project as the image built from containers/gateway (the Release build, published
    /// self-contained on the host), its port the only one the deployment publishes, with a readiness health check.
    /// </summary>
    public static IResourceBuilder<ProjectResource> PublishAsGatewayContainer(this IResourceBuilder<ProjectResource> gateway, ComposeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(settings);
        return gateway
            .WithEndpoint("http", endpoint =>
            {
                endpoint.TargetPort = Port;
                endpoint.IsExternal = true;
            })
            .PublishAsComposeImage($"{Image}:latest", "./containers/gateway")
            .WithComposeLimits(settings.GatewayMemoryMiB, settings.GatewayCpus)
            // API keys (see containers/gateway/entrypoint.sh): the key from the server's .env or shell, never from a
            // generated file; a keys file mounted read-only, /dev/null when unset.
            .WithEnvironment("LLMAPP_API_KEY", "${LLMAPP_API_KEY:-}")
            // llama-server's key, made on the server by the model fetcher; the entrypoint sends it as Backend__ApiKey.
            .WithEnvironment("LLMAPP_BACKEND_KEY_FILE", LlamaCppContainerBuilderExtensions.BackendKeyFile)
            .PublishAsComposeService(service =>
            {
                service.Volumes.Add("${LLMAPP_API_KEYS_FILE:-/dev/null}:/etc/llmapp/keys.json:ro");
                service.Volumes.Add($"{LlamaCppContainerBuilderExtensions.BackendKeyVolume}:{LlamaCppContainerBuilderExtensions.BackendKeyDirectory}:ro");
                service.Ports.Clear();
                service.Ports.Add($"${{LLMAPP_GATEWAY_BIND}}:${{LLMAPP_GATEWAY_PORT}}:{Port}");
                // Ready means the backend answers too; it loads the model first, so the gateway starts after it.
                service.HealthCheck = ComposeHealthCheck.Http(Port, GatewayBuilderExtensions.ReadinessPath, TimeSpan.FromSeconds(30));
            })
            .WithComposeVariable("LLMAPP_GATEWAY_PORT", settings.GatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "The gateway's OpenAI API port on this machine: the one port to open in the security group.")
            .WithComposeVariable("LLMAPP_API_KEY", "",
                "The API key clients send (Authorization: Bearer ...), set here on the server (chmod 600 this file) or in the shell; empty: /v1 is open to anyone who reaches the port.")
            .WithComposeVariable("LLMAPP_API_KEYS_FILE", "",
                "A JSON file of named keys on this machine (see the README's API keys), readable by uid 1654, re-read when it changes; empty: none.")
            .WithComposeVariable("LLMAPP_GATEWAY_BIND", "0.0.0.0",
                "The address that port is published on: 0.0.0.0 for the network, 127.0.0.1 behind a reverse proxy on this machine.");
    }
}
