using System.ComponentModel.DataAnnotations;
using LlmApp.Gateway.Configuration;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// The embedding server, when there is one (the <c>Embeddings</c> section; the AppHost fills it in when
/// <c>Llm:EmbeddingModel</c> is set). Without an <see cref="Endpoint"/>, <c>/v1/embeddings</c> answers 404.
/// </summary>
public sealed class EmbeddingsOptions
{
    public const string SectionName = "Embeddings";

    /// <summary>The backend's name in logs and metrics; the AppHost gives its resource name.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Name { get; set; } = "embeddings";

    /// <summary>Root URL of the embedding server, without <c>/v1</c>; unset when no embedding model is served.</summary>
    [AbsoluteHttpUri]
    public Uri? Endpoint { get; set; }

    /// <summary>The model id clients send and see in <c>/v1/models</c>.</summary>
    public string Model { get; set; } = "";

    public BackendKind Kind { get; set; } = BackendKind.LlamaCpp;

    public string? ApiKey { get; set; }

    /// <summary>Tokens one input may have: the embedding server's batch (llama-server embeds an input in one batch).</summary>
    [Range(1, int.MaxValue)]
    public int? MaxInputTokens { get; set; }

    /// <summary>
    /// Whether the model was trained to give useful shortened vectors (Matryoshka, as nomic-embed-text-v1.5), so that
    /// <c>dimensions</c> may ask for fewer; without it, <c>dimensions</c> is refused.
    /// </summary>
    public bool Matryoshka { get; set; }

    public bool IsEnabled => Endpoint is not null;

    /// <summary>The same backend as settings of the shape the rest of the gateway knows.</summary>
    internal BackendOptions ToBackendOptions() => new() { Name = Name, Endpoint = Endpoint, Model = Model, Kind = Kind, ApiKey = ApiKey };
}
