using LlmApp.AppHost.Models;
using LlmApp.AppHost.Settings;

namespace Aspire.Hosting;

public static class LlamaCppBuilderExtensions
{
    /// <summary>
    /// Adds llama-server as a native executable serving <paramref name="model"/> over an OpenAI-compatible API,
    /// with Prometheus metrics on and a health check on its <c>/health</c>.
    /// </summary>
    public static IResourceBuilder<LlamaCppResource> AddLlamaCpp(
        this IDistributedApplicationBuilder builder,
        [ResourceName] string name,
        string serverPath,
        ResolvedModel model,
        LlamaCppSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(serverPath);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);

        return builder.AddLlamaServer(name, serverPath, model.ServedName, settings.ContextPerSlot, LlamaCppArguments.For(model, settings));
    }

    /// <summary>
    /// <see cref="LlamaCppSettings.Replicas"/> llama-servers serving <paramref name="model"/> side by side: one is
    /// <paramref name="name"/> itself, more are <c>name-1</c> ... <c>name-N</c>, each on its own port, with its share
    /// of the cores, one key between them, each restarted when it crashes, and each on the dashboard.
    /// </summary>
    public static IResourceBuilder<LlamaCppResource>[] AddLlamaCppReplicas(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, string serverPath, ResolvedModel model, LlamaCppSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Replicas == 1)
        {
            return [builder.AddLlamaCpp(name, serverPath, model, settings).WithRestartOnCrash()];
        }

        var key = builder.AddBackendKey($"{name}-key");
        var replica = settings.ForReplica();
        return
        [
            .. Enumerable.Range(1, settings.Replicas).Select(i => builder
                .AddLlamaServer($"{name}-{i}", serverPath, model.ServedName, settings.ContextPerSlot, LlamaCppArguments.For(model, replica), key)
                .WithRestartOnCrash()),
        ];
    }

    /// <summary>
    /// A llama-server executable with <paramref name="arguments"/>, its port from Aspire, a key of its own
    /// (<c>LLAMA_API_KEY</c>; only <c>/health</c> answers without it) and a health check on <c>/health</c>.
    /// </summary>
    internal static IResourceBuilder<LlamaCppResource> AddLlamaServer(
        this IDistributedApplicationBuilder builder, string name, string serverPath, string servedModel, int contextLength, string[] arguments,
        IResourceBuilder<ParameterResource>? key = null)
    {
        var resource = new LlamaCppResource(name, serverPath, Path.GetDirectoryName(serverPath)!, servedModel, contextLength);
        var server = builder.AddResource(resource)
            // llama-server reads its port from LLAMA_ARG_PORT, so Aspire can pick a free one. Not proxied: the gateway
            // talks to llama-server directly, so that a closed connection reaches it at once (it frees the slot) and
            // no extra hop sits on the per-token path.
            .WithHttpEndpoint(name: LlamaCppResource.HttpEndpointName, env: "LLAMA_ARG_PORT", isProxied: false)
            .WithArgs(arguments)
            .WithHttpHealthCheck("/health", endpointName: LlamaCppResource.HttpEndpointName);
        return key is null ? server.WithGeneratedKey("LLAMA_API_KEY") : server.WithBackendKey(key, "LLAMA_API_KEY");
    }
}
