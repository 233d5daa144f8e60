using LlmApp.AppHost.Memory;
using LlmApp.AppHost.Models;
using LlmApp.AppHost.Settings;
using LlmApp.Models;

namespace LlmApp.AppHost.Compose;

/// <summary>The models the compose deployment serves, each resolved and checked against its service's memory limit.</summary>
public static class ComposeModels
{
    /// <summary>The chat model of <c>Llm:Compose:Model</c>, fitting the llm service's limit.</summary>
    public static ComposeModel Chat(LlmSettings settings, ModelCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var model = ComposeModel.Resolve(settings.Compose.Model, "Llm:Compose:Model", settings.Compose.ServedModelName, CatalogEntry.ChatKind, catalog);
        if (settings.MemoryCheck && settings.LlamaCpp.Cuda)
        {
            // The CUDA build holds the weights and the KV cache on the GPU: they must fit its memory.
            ComposeMemoryCheck.EnsureFits(model, ServerLoad.Chat(settings), settings.Compose.GpuMemoryMiB, "llm service's GPU", "Llm:Compose:GpuMemoryMiB",
                "Llm:Compose:Model", catalog);
        }
        else if (settings.MemoryCheck)
        {
            ComposeMemoryCheck.EnsureFits(model, ServerLoad.Chat(settings), settings.Compose.LlmMemoryMiB, "llm", "Llm:Compose:LlmMemoryMiB",
                "Llm:Compose:Model", catalog);
        }

        return model;
    }

    /// <summary>The embedding model of <c>Llm:EmbeddingModel</c>, fitting the embeddings service's limit; null when unset.</summary>
    public static ComposeModel? Embedding(LlmSettings settings, ModelCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.EmbeddingModel is not { Length: > 0 } setting)
        {
            return null;
        }

        var model = ComposeModel.Resolve(setting, ModelResolver.EmbeddingModelSetting, settings.EmbeddingServedModelName, CatalogEntry.EmbeddingKind, catalog);
        if (settings.MemoryCheck)
        {
            ComposeMemoryCheck.EnsureFits(model, ServerLoad.Embedding(settings), settings.Compose.EmbeddingsMemoryMiB, "embeddings",
                "Llm:Compose:EmbeddingsMemoryMiB", ModelResolver.EmbeddingModelSetting, catalog);
        }

        return model;
    }
}
