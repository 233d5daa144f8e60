using LlmApp.AppHost.Models;
using LlmApp.AppHost.Setup;

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
    /// A llama-server executable with <paramref name="arguments"/>, its port from Aspire, a key of its own
    /// (<c>LLAMA_API_KEY</c>; only <c>/health</c> answers without it) and a health check on <c>/health</c>.
    /// </summary>
    internal static IResourceBuilder<LlamaCppResource> AddLlamaServer(
        this IDistributedApplicationBuilder builder, string name, string serverPath, string servedModel, int contextLength, string[] arguments)
    {
        var resource = new LlamaCppResource(name, serverPath, Path.GetDirectoryName(serverPath)!, servedModel, contextLength);
        return builder.AddResource(resource)
            // llama-server reads its port from LLAMA_ARG_PORT, so Aspire can pick a free one. Not proxied: the gateway
            // talks to llama-server directly, so that a closed connection reaches it at once (it frees the slot) and
            // no extra hop sits on the per-token path.
            .WithHttpEndpoint(name: LlamaCppResource.HttpEndpointName, env: "LLAMA_ARG_PORT", isProxied: false)
            .WithArgs(arguments)
            .WithHttpHealthCheck("/health", endpointName: LlamaCppResource.HttpEndpointName)
            .WithGeneratedKey("LLAMA_API_KEY");
    }
}
