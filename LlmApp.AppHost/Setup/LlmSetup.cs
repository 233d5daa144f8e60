using LlmApp.AppHost.LlamaCpp;
using LlmApp.AppHost.Models;

namespace LlmApp.AppHost.Setup;

/// <summary>
/// Everything that must be on disk before the first resource starts: the llama-server binary, the model and the
/// embedding model, if one is asked for.
/// </summary>
public static class LlmSetup
{
    public static async Task<(string ServerPath, ResolvedModel Model, ResolvedModel? EmbeddingModel)> PrepareAsync(
        LlmSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // The models first: a wrong Llm:Model should fail in a second, not after a seven-minute build.
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var catalog = ModelCatalog.Load();
        // Before the download too: a model that cannot fit should not cost a 5 GB download to find out. A catalog
        // model is sized from the catalog, a file from its header.
        if (settings.MemoryCheck)
        {
            MemoryFit.EnsureFitsThisMachine(settings, catalog);
        }

        var model = await ModelResolver.ResolveAsync(settings, catalog, http, cancellationToken);
        var embeddingModel = await ModelResolver.ResolveEmbeddingAsync(settings, catalog, http, cancellationToken);
        var serverPath = await LlamaServerLocator.LocateAsync(settings, cancellationToken);
        return (serverPath, model, embeddingModel);
    }
}
