using LlmApp.AppHost.LlamaCpp;
using LlmApp.AppHost.Memory;
using LlmApp.AppHost.Models;
using LlmApp.AppHost.Settings;
using LlmApp.Models;

namespace LlmApp.AppHost.Setup;

/// <summary>
/// Everything that must be on disk before the first resource starts: the llama-server binary, the model and the
/// embedding model, if one is asked for.
/// </summary>
public static class LlmSetup
{
    public static async Task<LocalSetup> PrepareAsync(LlmSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // vLLM fetches its own model: a GGUF and llama-server are needed only for an embedding model beside it.
        var chat = settings.Backend == LlmBackend.LlamaCpp;
        if (!chat && settings.EmbeddingModel is not { Length: > 0 })
        {
            return new LocalSetup(null, null, null);
        }

        // The models first: a wrong Llm:Model should fail in a second, not after a seven-minute build.
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var catalog = ModelCatalog.Load();
        // Before the download too: a model that cannot fit should not cost a 5 GB download to find out. A catalog
        // model is sized from the catalog, a file from its header.
        if (settings.MemoryCheck && chat)
        {
            MemoryFit.EnsureFitsThisMachine(settings, catalog);
        }

        var model = chat ? await ModelResolver.ResolveAsync(settings, catalog, http, cancellationToken) : null;
        var embeddingModel = await ModelResolver.ResolveEmbeddingAsync(settings, catalog, http, cancellationToken);
        var serverPath = await LlamaServerLocator.LocateAsync(settings, cancellationToken);
        return new LocalSetup(serverPath, model, embeddingModel);
    }
}

/// <summary>What <see cref="LlmSetup.PrepareAsync"/> made ready on this machine: only what the chosen backend needs.</summary>
public sealed record LocalSetup(string? Server, ResolvedModel? Chat, ResolvedModel? EmbeddingModel)
{
    /// <summary>The llama-server binary, found or built.</summary>
    public string ServerPath => Server ?? throw new InvalidOperationException("llama-server was not prepared: the chosen backend does not use it.");

    /// <summary>The chat model llama-server serves.</summary>
    public ResolvedModel Model => Chat ?? throw new InvalidOperationException("No chat model was prepared: the chosen backend fetches its own.");
}
