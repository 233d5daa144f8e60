using LlmApp.AppHost.LlamaCpp;
using LlmApp.AppHost.Models;

namespace LlmApp.AppHost.Setup;

/// <summary>Everything that must be on disk before the first resource starts: the llama-server binary and the model.</summary>
public static class LlmSetup
{
    public static async Task<(string ServerPath, ResolvedModel Model)> PrepareAsync(LlmSettings settings, CancellationToken cancellationToken = default)
    {
        // The model first: a wrong Llm:Model should fail in a second, not after a seven-minute build.
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var model = await ModelResolver.ResolveAsync(settings, ModelCatalog.Load(), http, cancellationToken);
        var serverPath = await LlamaServerLocator.LocateAsync(settings, cancellationToken);
        return (serverPath, model);
    }
}
