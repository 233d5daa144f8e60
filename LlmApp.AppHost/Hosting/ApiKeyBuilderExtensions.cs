using LlmApp.AppHost.Settings;
using LlmApp.AppHost.Setup;

namespace Aspire.Hosting;

public static class ApiKeyBuilderExtensions
{
    /// <summary>The name the gateway's log gives requests made with <c>Llm:ApiKey</c>.</summary>
    public const string DefaultKeyName = "default";

    /// <summary>
    /// Turns on the gateway's API keys from the AppHost's settings: <c>Llm:ApiKey</c> as one key named <c>default</c>,
    /// through a secret parameter (masked in the dashboard, never written to a manifest in clear), and
    /// <c>Llm:ApiKeysFile</c>, checked now, by its absolute path. Neither set: the gateway stays open, and says so.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithApiKeys(this IResourceBuilder<ProjectResource> gateway, LlmSettings settings)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.ApiKey is { Length: > 0 } apiKey)
        {
            var key = gateway.ApplicationBuilder.AddParameter("api-key", apiKey, secret: true);
            gateway.WithEnvironment("Auth__Keys__0__Name", DefaultKeyName).WithEnvironment("Auth__Keys__0__Key", key);
        }

        if (settings.ApiKeysFile is { Length: > 0 } keysFile)
        {
            gateway.WithEnvironment("Auth__KeysFile", ApiKeysFileCheck.Check(keysFile));
        }

        return gateway;
    }
}
