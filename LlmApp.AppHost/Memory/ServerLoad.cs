using LlmApp.AppHost.Settings;
namespace LlmApp.AppHost.Memory;

/// <summary>
/// The llama-server settings that size its memory beyond the model: the context of each slot, the slots, the batch,
/// and the prompt cache. <see cref="Chat"/> and <see cref="Embedding"/> mirror the command lines the AppHost passes
/// (LlamaCppArguments, LlamaCppEmbeddingArguments): f16 KV cache, flash attention, micro-batch = batch.
/// </summary>
public sealed record ServerLoad(int ContextPerSlot, int Parallel, int BatchSize, int PromptCacheMiB = 0, bool Embeddings = false)
{
    /// <summary>The chat llama-server of <c>Llm:LlamaCpp</c>.</summary>
    public static ServerLoad Chat(LlmSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var llamaCpp = settings.LlamaCpp;
        return new(llamaCpp.ContextPerSlot, llamaCpp.Parallel, llamaCpp.BatchSize, llamaCpp.PromptCacheMiB);
    }

    /// <summary>
    /// The embedding llama-server: two slots of one batch each (an input is embedded in one batch), and no prompt cache,
    /// which llama-server keeps for completions only.
    /// </summary>
    public static ServerLoad Embedding(LlmSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new(settings.EmbeddingBatchSize, 2, settings.EmbeddingBatchSize, Embeddings: true);
    }

    /// <summary>The setting that sets the context: it is what to lower when a model does not quite fit.</summary>
    public string ContextSetting => Embeddings ? "Llm:EmbeddingBatchSize" : "Llm:LlamaCpp:ContextPerSlot";

    /// <summary>The smallest value <see cref="LlmSettings.Validate"/> accepts for <see cref="ContextSetting"/>.</summary>
    public int SmallestContext => Embeddings ? 32 : 256;

    /// <summary>This load with the context setting at <paramref name="tokens"/> (for embeddings it is the batch as well).</summary>
    public ServerLoad WithContext(int tokens) => Embeddings
        ? this with { ContextPerSlot = tokens, BatchSize = tokens }
        : this with { ContextPerSlot = tokens };
}
