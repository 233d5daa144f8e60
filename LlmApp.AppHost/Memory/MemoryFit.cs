using LlmApp.AppHost.Models;
using LlmApp.AppHost.Settings;
using LlmApp.Models;

namespace LlmApp.AppHost.Memory;

/// <summary>
/// Whether the models fit in memory, decided before anything starts (or downloads): a model that does not fit is
/// killed while loading, or runs at 1 tok/s re-reading its weights from disk for every token. The estimate was
/// calibrated against llama-server 0.4.0's own buffer sizes and its resident memory, native and under container memory
/// limits (docs/performance.md, "Memory fit"); 0.5.0 reports the same buffers for the same shapes (the 1B shape:
/// 68.01 MiB compute, 256 MiB KV, 0.24 MiB output).
/// </summary>
public static class MemoryFit
{
    private const long MiB = 1L << 20;

    // The llama-server process beyond its buffers: its code and libraries (13 MiB resident) and its heap (vocabulary,
    // slots, HTTP), measured at 15-20 MiB with models from 1 MiB to 4.4 GB.
    private const long ProcessBytes = 16 * MiB;

    /// <summary>
    /// The memory llama-server needs for a model of <paramref name="fileBytes"/> and <paramref name="shape"/> at
    /// <paramref name="load"/>, on the CPU, with the AppHost's f16 KV cache and flash attention.
    /// </summary>
    public static MemoryEstimate Estimate(long fileBytes, ModelShape shape, ServerLoad load)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(load);

        // llama_context rounds the whole context up to 256 tokens, then each slot's share of it.
        var slotContext = PadTo256(PadTo256((long)load.ContextPerSlot * load.Parallel) / load.Parallel);
        var kvCache = slotContext * load.Parallel * shape.KvBytesPerToken;

        // A causal model's batch is bounded by its context; the AppHost passes the batch as the micro-batch too.
        var batch = shape.HasKvCache ? Math.Min(load.BatchSize, slotContext * load.Parallel) : load.BatchSize;

        // The compute buffer (llama-server's "CPU compute buffer size") holds the live activations of one micro-batch at
        // their peak: per token three feed-forward-wide and four embedding-wide f32 rows, plus the f16 attention mask
        // over the slot's cells (a model without a KV cache attends over the batch). With flash attention there is no
        // heads × tokens × cells score matrix. Matches llama.cpp's figure to the MiB for the Llama shapes at micro-batches
        // 128-1024 and contexts 2k-8k, and is 6% over for nomic-bert.
        var attended = shape.HasKvCache ? slotContext : batch;
        var compute = batch * 4 * (3L * shape.FeedForwardLength + 4L * shape.EmbeddingLength) + attended * batch * 2;

        // The output buffer ("output buffer size"): f32 logits over the vocabulary for every output a batch may ask for,
        // one a slot when generating; an embedding server asks for every token of the batch, and their vectors.
        var outputs = load.Embeddings ? load.BatchSize : load.Parallel;
        var output = outputs * 4L * (shape.VocabSize + (load.Embeddings ? shape.EmbeddingLength : 0));

        // Generating reads the weights llama.cpp leaves memory-mapped (those it does not repack for the CPU: a Q4_K_M
        // file's Q6_K tensors and output matrix, a fifth to two fifths of the file) once for every token, and the kernel
        // keeps them in the page cache only with room to spare. Measured under memory limits (cgroups), the footprint
        // above (the file counted once) is not enough: generation falls to about 1 tok/s, re-reading weights from disk;
        // a quarter of the file more runs at full speed. An embedding server reads its weights once a batch instead.
        var headroom = load.Embeddings ? 0 : fileBytes / 4;

        // llama-server keeps earlier prompts' KV state for completions only, up to --cache-ram.
        var promptCache = load.Embeddings ? 0 : load.PromptCacheMiB * MiB;

        return new MemoryEstimate(fileBytes, kvCache, compute + output + ProcessBytes, headroom, promptCache, load.Parallel, slotContext);
    }

    /// <summary>The estimate of one planned server.</summary>
    public static MemoryEstimate Estimate(ServerToFit server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return Estimate(server.FileBytes, server.Shape, server.Load);
    }

    /// <summary>
    /// Run mode: the chat model of <c>Llm:Model</c>, plus the embedding model of <c>Llm:EmbeddingModel</c> when one is
    /// set, against this machine's memory. Settings that name no model the check can size are left to ModelResolver.
    /// </summary>
    public static void EnsureFitsThisMachine(LlmSettings settings, ModelCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var chat = ServerToFit.ForSetting(settings.Model, CatalogEntry.ChatKind, catalog, ServerLoad.Chat(settings));
        var embedding = ServerToFit.ForSetting(settings.EmbeddingModel, CatalogEntry.EmbeddingKind, catalog, ServerLoad.Embedding(settings));
        ServerToFit[] servers = [.. new[] { chat, embedding }.OfType<ServerToFit>()];
        if (servers.Length > 0 && MemoryLimit.OfThisMachine() is { } limit)
        {
            EnsureFits(servers, limit, catalog);
        }
    }

    /// <summary>
    /// Throws a one-line <see cref="SetupException"/> when <paramref name="servers"/> together need more than
    /// <paramref name="limit"/>, naming what would fit instead of the first of them: the catalog's other models of its
    /// kind, and the largest context it would fit with, given the memory the others take. <paramref name="modelSetting"/>
    /// names the setting that chooses the first server's model (null: Llm:Model or Llm:EmbeddingModel).
    /// </summary>
    public static void EnsureFits(IReadOnlyList<ServerToFit> servers, MemoryLimit limit, ModelCatalog catalog, string? modelSetting = null)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(limit);
        ArgumentNullException.ThrowIfNull(catalog);
        if (servers.Count == 0)
        {
            return;
        }

        var estimates = servers.Select(Estimate).ToArray();
        var total = estimates.Sum(e => e.Total);
        if (total <= limit.Bytes)
        {
            return;
        }

        var first = servers[0];
        var need = $"{first.Name} needs about {MemoryEstimate.Gib(estimates[0].Total)} ({estimates[0].Parts()})";
        for (var i = 1; i < servers.Count; i++)
        {
            need += $", and {servers[i].Name} {MemoryEstimate.Gib(estimates[i].Total)} ({estimates[i].Parts()})";
        }

        if (servers.Count > 1)
        {
            need += $": {MemoryEstimate.Gib(total)} together";
        }

        var budget = limit.Bytes - (total - estimates[0].Total);
        throw new SetupException($"{need}, more than {limit.Description}. What fits: {WhatFits(first, budget, catalog, modelSetting)}. Llm:MemoryCheck false skips this check.");
    }

    /// <summary>"llama-3.2-1b-instruct, qwen2.5-0.5b-instruct (Llm:Model), or Llm:LlamaCpp:ContextPerSlot 1536 or less", or "none".</summary>
    private static string WhatFits(ServerToFit server, long budget, ModelCatalog catalog, string? modelSetting)
    {
        var kind = server.Load.Embeddings ? CatalogEntry.EmbeddingKind : CatalogEntry.ChatKind;
        var models = catalog.Models
            .Where(m => m.Kind == kind && m.Shape is not null && !m.RandomWeights && !string.Equals(m.Name, server.Name, StringComparison.OrdinalIgnoreCase))
            .Where(m => Estimate(m.Size, m.Shape!, server.Load).Total <= budget)
            .Select(m => m.Name)
            .ToList();
        List<string> options = [];
        if (models.Count > 0)
        {
            var setting = modelSetting ?? (server.Load.Embeddings ? ModelResolver.EmbeddingModelSetting : ModelResolver.ModelSetting);
            options.Add($"{string.Join(", ", models)} ({setting})");
        }

        if (LargestContext(server, budget) is { } context)
        {
            options.Add($"{server.Load.ContextSetting} {context} or less");
        }

        return options.Count > 0 ? string.Join(", or ", options) : "none";
    }

    /// <summary>The largest context setting (in steps of <see cref="ServerLoad.SmallestContext"/>) below the current one at which the server fits.</summary>
    private static int? LargestContext(ServerToFit server, long budget)
    {
        var step = server.Load.SmallestContext;
        int? largest = null;
        // Memory grows with the context, so a binary search over the steps finds the largest that fits.
        for (int low = 1, high = (server.Load.ContextPerSlot - 1) / step; low <= high;)
        {
            var middle = low + ((high - low) / 2);
            if (Estimate(server.FileBytes, server.Shape, server.Load.WithContext(middle * step)).Total <= budget)
            {
                largest = middle * step;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return largest;
    }

    private static long PadTo256(long tokens) => (tokens + 255) / 256 * 256;
}
