using LlmApp.AppHost.Compose;
using LlmApp.AppHost.Settings;
using LlmApp.AppHost.Setup;
using LlmApp.Models;

namespace Aspire.Hosting;

public static class GatewayContainerExtensions
{
    public const string Image = "llmapp-gateway";

    /// <summary>The port the gateway listens on in its container (the image sets ASPNETCORE_HTTP_PORTS to it).</summary>
    public const int Port = 8080;

    /// <summary>Where the keys directory of <c>LLMAPP_API_KEYS_DIR</c> is mounted; the gateway reads <c>keys.json</c> in it.</summary>
    public const string KeysDirectory = "/etc/llmapp/keys";

    /// <summary>The name the keys file must have in its directory.</summary>
    public const string KeysFileName = "keys.json";

    /// <summary>Where the TLS directory of <c>LLMAPP_TLS_DIR</c> is mounted: <c>cert.pem</c> and <c>key.pem</c>.</summary>
    public const string TlsDirectory = "/etc/llmapp/tls";

    /// <summary>
    /// Publishes the gateway project as the image built from containers/gateway (the Release build, published
    /// self-contained on the host), its port the only one the deployment publishes, with a readiness health check.
    /// Keys: <c>LLMAPP_API_KEY</c>, or a directory holding <c>keys.json</c>, mounted whole so that a file an editor
    /// replaces by rename is seen. Without either, it does not start unless the port is published on loopback
    /// (<c>LLMAPP_GATEWAY_BIND</c>) or <c>LLMAPP_ALLOW_ANONYMOUS</c> says so. <c>LLMAPP_TLS_DIR</c> turns on HTTPS.
    /// </summary>
    public static IResourceBuilder<ProjectResource> PublishAsGatewayContainer(this IResourceBuilder<ProjectResource> gateway, LlmSettings settings)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(settings);
        var compose = settings.Compose;
        return gateway
            .WithEndpoint("http", endpoint =>
            {
                endpoint.TargetPort = Port;
                endpoint.IsExternal = true;
            })
            .PublishAsComposeImage($"{Image}:latest", "./containers/gateway")
            .WithComposeLimits(compose.GatewayMemoryMiB, compose.GatewayCpus)
            .WithComposeHardening([ComposeNetworks.Backend, ComposeNetworks.Edge])
            .WithBackendKeyGroup()
            // API keys (see containers/gateway/entrypoint.sh): the key from the server's .env or shell, never from a
            // generated file; the keys directory mounted read-only, /dev/null when unset.
            .WithEnvironment("LLMAPP_API_KEY", "${LLMAPP_API_KEY:-}")
            .WithEnvironment("LLMAPP_API_KEYS_DIR", "${LLMAPP_API_KEYS_DIR:-}")
            .WithEnvironment("LLMAPP_TLS_DIR", "${LLMAPP_TLS_DIR:-}")
            // Where the port is published decides whether the gateway may start without keys (in its container it listens
            // on every interface whatever the host publishes).
            .WithEnvironment("Auth__PublishedAddress", "${LLMAPP_GATEWAY_BIND}")
            .WithEnvironment("Auth__AllowAnonymous", "${LLMAPP_ALLOW_ANONYMOUS:-false}")
            .WithEnvironment("Proxy__Trusted", "${LLMAPP_TRUSTED_PROXIES:-}")
            // llama-server's key, made on the server by the model fetcher; the entrypoint sends it as Backend__ApiKey.
            .WithEnvironment("LLMAPP_BACKEND_KEY_FILE", LlamaCppContainerBuilderExtensions.BackendKeyFile)
            .PublishAsComposeService(service =>
            {
                // Aspire's project publishing believes X-Forwarded-* from anyone; the gateway believes Proxy:Trusted only.
                service.Environment.Remove("ASPNETCORE_FORWARDEDHEADERS_ENABLED");
                service.Volumes.Add($"${{LLMAPP_API_KEYS_DIR:-/dev/null}}:{KeysDirectory}:ro");
                service.Volumes.Add($"${{LLMAPP_TLS_DIR:-/dev/null}}:{TlsDirectory}:ro");
                service.Volumes.Add($"{LlamaCppContainerBuilderExtensions.BackendKeyVolume}:{LlamaCppContainerBuilderExtensions.BackendKeyDirectory}:ro");
                service.Ports.Clear();
                service.Ports.Add($"${{LLMAPP_GATEWAY_BIND}}:${{LLMAPP_GATEWAY_PORT}}:{Port}");
                // Ready means the backend answers too; it loads the model first, so the gateway starts after it. Asked on
                // the management port, which is plain HTTP whether or not the API's port has TLS.
                service.HealthCheck = ComposeHealthCheck.Http(GatewayBuilderExtensions.ManagementContainerPort, GatewayBuilderExtensions.ReadinessPath,
                    TimeSpan.FromSeconds(30));
            })
            .WithAnnotation(new ComposeFileAnnotation(AddSettingsCheck))
            .WithComposeVariable("LLMAPP_GATEWAY_PORT", compose.GatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "The gateway's OpenAI API port on this machine: the one port to open in the security group.")
            .WithComposeVariable("LLMAPP_API_KEY", settings.ApiKey ?? "",
                "The API key clients send (Authorization: Bearer ...), named default; set here on the server (this file is 0600) or in the shell. Visible to docker inspect: prefer LLMAPP_API_KEYS_DIR.")
            .WithComposeVariable("LLMAPP_API_KEYS_DIR", KeysDirectoryOf(settings.ApiKeysFile),
                $"A directory on this machine holding {KeysFileName} (named keys with their limits; see the README's API keys), readable by uid 1654, re-read within a second of any change.")
            .WithComposeVariable("LLMAPP_GATEWAY_BIND", "0.0.0.0",
                "The address that port is published on: 0.0.0.0 for the network (the gateway then needs a key), 127.0.0.1 behind a reverse proxy on this machine.")
            .WithComposeVariable("LLMAPP_ALLOW_ANONYMOUS", "false",
                "true serves /v1 without keys on a network address, on purpose (a private network, a proxy that authenticates); false: the gateway will not start open.")
            .WithComposeVariable("LLMAPP_TRUSTED_PROXIES", "",
                "Addresses or networks of reverse proxies whose X-Forwarded-For to believe (10.0.0.0/8,127.0.0.1); empty: none.")
            .WithComposeVariable("LLMAPP_TLS_DIR", "",
                "A directory on this machine holding cert.pem and key.pem (PEM, readable by uid 1654): the API's port then speaks HTTPS; empty: plain HTTP.");
    }

    /// <summary>The one-shot that checks the gateway's settings first; see <see cref="AddSettingsCheck"/>.</summary>
    public const string CheckService = "gateway-check";

    /// <summary>
    /// <c>gateway-check</c>: the gateway's image and settings, run with <c>--check</c>, which checks them and exits. Every
    /// other service waits for it to succeed, so that <c>docker compose up</c> with settings the gateway would refuse (no
    /// key on a network address, a keys directory without its file) fails at once, before a model is downloaded or a
    /// port published, instead of leaving a gateway that restarts forever.
    /// </summary>
    private static void AddSettingsCheck(ComposeFile file)
    {
        if (!file.Services.TryGetValue("gateway", out var gateway))
        {
            return;
        }

        var check = gateway.OneShot("--check");
        // The backend network is internal, and the check talks to nothing.
        check.Networks.Clear();
        check.Networks.Add(ComposeNetworks.Backend);
        file.Services[CheckService] = check;
        foreach (var service in file.Services.Where(s => s.Key != CheckService).Select(s => s.Value))
        {
            service.DependsOn[CheckService] = new ComposeDependency { Condition = ComposeDependency.CompletedSuccessfully };
        }
    }

    /// <summary>
    /// <c>Llm:ApiKeysFile</c> at generation, as the keys directory the compose file mounts: checked now, and named
    /// <c>keys.json</c>, since the deployment mounts the directory and reads that name in it.
    /// </summary>
    private static string KeysDirectoryOf(string? keysFile)
    {
        if (keysFile is not { Length: > 0 })
        {
            return "";
        }

        var path = ApiKeysFileCheck.Check(keysFile);
        return Path.GetFileName(path) == KeysFileName
            ? Path.GetDirectoryName(path)!
            : throw new SetupException(
                $"Llm:ApiKeysFile '{path}': the compose deployment mounts the keys file's directory and reads {KeysFileName} in it (so that a file " +
                $"replaced by rename is seen); name the file {KeysFileName}.");
    }
}
