namespace LlmApp.Gateway.OpenAI;

/// <summary>
/// One input of <c>/v1/embeddings</c>: a text, or token ids. OpenAI accepts both, and so does llama-server, but
/// Microsoft.Extensions.AI's usual <c>IEmbeddingGenerator&lt;string, ...&gt;</c> can only carry text. The gateway's
/// generator is an <c>IEmbeddingGenerator&lt;EmbeddingInput, Embedding&lt;float&gt;&gt;</c> instead, so token ids pass
/// through the same pipeline (telemetry included) to the backend unchanged.
/// </summary>
public sealed record EmbeddingInput
{
    private EmbeddingInput(string? text, IReadOnlyList<int>? tokens)
    {
        Text = text;
        Tokens = tokens;
    }

    public string? Text { get; }

    public IReadOnlyList<int>? Tokens { get; }

    public static EmbeddingInput FromText(string text) => new(text, null);

    public static EmbeddingInput FromTokens(IReadOnlyList<int> tokens) => new(null, tokens);

    public override string ToString() => Text ?? $"[{Tokens!.Count} tokens]";
}
