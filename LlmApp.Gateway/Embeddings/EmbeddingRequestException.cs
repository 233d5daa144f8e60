namespace LlmApp.Gateway.Embeddings;

/// <summary>A request the embedding path can only find wrong once it runs (too long an input, too many dimensions): a 400.</summary>
public sealed class EmbeddingRequestException(string message, string param, string? code = null) : Exception(message)
{
    public string Param { get; } = param;

    public string? Code { get; } = code;
}
