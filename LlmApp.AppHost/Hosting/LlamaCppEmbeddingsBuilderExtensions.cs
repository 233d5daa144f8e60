using System.Globalization;
using LlmApp.AppHost.Models;
using LlmApp.AppHost.Settings;
using LlmApp.Models;

namespace Aspire.Hosting;

public static class LlamaCppEmbeddingsBuilderExtensions
{
    /// <summary>
    /// Adds a second llama-server, serving <paramref name="model"/> for embeddings only (<c>--embeddings</c>), with its
    /// metrics and a health check, beside the chat one.
    /// </summary>
    public static IResourceBuilder<LlamaCppResource> AddLlamaCppEmbeddings(
        this IDistributedApplicationBuilder builder,
        [ResourceName] string name,
        string serverPath,
        ResolvedModel model,
        LlmSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(serverPath);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);

        return builder.AddLlamaServer(name, serverPath, model.ServedName, settings.EmbeddingBatchSize, LlamaCppEmbeddingArguments.For(model, settings));
    }

    /// <summary>
    /// Points the gateway's <c>/v1/embeddings</c> at the embedding server: <c>Embeddings__*</c> settings, and the gateway
    /// starts once it is healthy. <paramref name="entry"/> is the model's catalog entry, null for a file.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithEmbeddingBackend<TBackend>(
        this IResourceBuilder<ProjectResource> gateway, IResourceBuilder<TBackend> embeddings, CatalogEntry? entry, LlmSettings settings)
        where TBackend : ILlmBackendResource
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(settings);
        var matryoshka = settings.EmbeddingMatryoshka ?? entry?.Matryoshka ?? false;
        return gateway
            .WithBackendSection("Embeddings", embeddings.Resource)
            .WithEnvironment("Embeddings__MaxInputTokens", settings.EmbeddingBatchSize.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("Embeddings__Matryoshka", matryoshka ? "true" : "false");
    }
}

/// <summary>The embedding llama-server's settings, with the reason for each next to them; shared by the executable and the container.</summary>
internal static class LlamaCppEmbeddingArguments
{
    public static string[] For(ResolvedModel model, LlmSettings settings)
    {
        var threads = settings.LlamaCpp.Threads > 0 ? settings.LlamaCpp.Threads : Environment.ProcessorCount;
        return
        [
            "--model", model.Path,
            "--alias", model.ServedName,
            "--host", "127.0.0.1",
            .. Options(settings, threads, settings.EmbeddingPooling ?? model.Entry?.Pooling).SelectMany(option => option.Arguments),
        ];
    }

    /// <summary>The settings; <paramref name="pooling"/> (how token vectors become one) is the setting's, the catalog's, or null for what the model file says.</summary>
    public static IReadOnlyList<LlamaServerOption> Options(LlmSettings settings, int threads, string? pooling)
    {
        var batch = LlamaCppArguments.Invariant(settings.EmbeddingBatchSize);
        var context = LlamaCppArguments.Invariant(settings.EmbeddingBatchSize * 2);
        List<LlamaServerOption> options =
        [
            // Embeddings only: /v1/embeddings, no generation.
            new("LLAMA_ARG_EMBEDDINGS", "1", "--embeddings"),
            new("LLAMA_ARG_ENDPOINT_METRICS", "1", "--metrics"),
            new("LLAMA_ARG_THREADS", LlamaCppArguments.Invariant(threads), "--threads", LlamaCppArguments.Invariant(threads)),
            new(null, "", "--threads-batch", LlamaCppArguments.Invariant(threads)),
            // llama-server embeds each input in one batch: the batch is the longest input it takes, and each of the two
            // slots needs that much context.
            new("LLAMA_ARG_BATCH", batch, "--batch-size", batch),
            new("LLAMA_ARG_UBATCH", batch, "--ubatch-size", batch),
            new("LLAMA_ARG_N_PARALLEL", "2", "--parallel", "2"),
            new("LLAMA_ARG_CTX_SIZE", context, "--ctx-size", context),
            new("LLAMA_ARG_UI", "0", "--no-ui"),
        ];

        if (pooling is not null)
        {
            options.Add(new("LLAMA_ARG_POOLING", pooling, "--pooling", pooling));
        }

        return options;
    }
}
