using System.Globalization;
using LlmApp.AppHost.Models;
using LlmApp.AppHost.Setup;

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
    /// starts once it is healthy.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithEmbeddingBackend(
        this IResourceBuilder<ProjectResource> gateway, IResourceBuilder<LlamaCppResource> embeddings, ResolvedModel model, LlmSettings settings)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        var matryoshka = settings.EmbeddingMatryoshka ?? model.Entry?.Matryoshka ?? false;
        return gateway
            .WithEnvironment("Embeddings__Name", embeddings.Resource.Name)
            .WithEnvironment("Embeddings__Kind", embeddings.Resource.Kind)
            .WithEnvironment("Embeddings__Endpoint", embeddings.Resource.HttpEndpoint)
            .WithEnvironment("Embeddings__Model", embeddings.Resource.ServedModel)
            .WithEnvironment("Embeddings__MaxInputTokens", settings.EmbeddingBatchSize.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("Embeddings__Matryoshka", matryoshka ? "true" : "false")
            .WithRelationship(embeddings.Resource, "Embeddings")
            .WaitFor(embeddings);
    }
}

/// <summary>The embedding llama-server's command line, with the reason for each setting next to it.</summary>
internal static class LlamaCppEmbeddingArguments
{
    public static string[] For(ResolvedModel model, LlmSettings settings)
    {
        var threads = settings.LlamaCpp.Threads > 0 ? settings.LlamaCpp.Threads : Environment.ProcessorCount;
        var batch = settings.EmbeddingBatchSize.ToString(CultureInfo.InvariantCulture);
        List<string> arguments =
        [
            "--model", model.Path,
            "--alias", model.ServedName,
            "--host", "127.0.0.1",
            // Embeddings only: /v1/embeddings, no generation.
            "--embeddings",
            "--metrics",
            "--threads", threads.ToString(CultureInfo.InvariantCulture),
            "--threads-batch", threads.ToString(CultureInfo.InvariantCulture),
            // llama-server embeds each input in one batch: the batch is the longest input it takes, and each of the two
            // slots needs that much context.
            "--batch-size", batch,
            "--ubatch-size", batch,
            "--parallel", "2",
            "--ctx-size", (settings.EmbeddingBatchSize * 2).ToString(CultureInfo.InvariantCulture),
            "--no-webui",
        ];

        // How token vectors become one: the setting, the catalog's, or (unset) what the model file says.
        if ((settings.EmbeddingPooling ?? model.Entry?.Pooling) is { } pooling)
        {
            arguments.AddRange(["--pooling", pooling]);
        }

        return [.. arguments];
    }
}
