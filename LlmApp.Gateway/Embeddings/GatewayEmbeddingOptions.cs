using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Embeddings;

/// <summary><see cref="EmbeddingGenerationOptions"/> that carry the gateway's <see cref="ChatCall"/> down the pipeline, as <see cref="GatewayChatOptions"/> do for chat.</summary>
public sealed class GatewayEmbeddingOptions : EmbeddingGenerationOptions
{
    public GatewayEmbeddingOptions(ChatCall call)
    {
        Call = call;
    }

    private GatewayEmbeddingOptions(GatewayEmbeddingOptions other)
        : base(other)
    {
        Call = other.Call;
    }

    public ChatCall Call { get; }

    public override EmbeddingGenerationOptions Clone() => new GatewayEmbeddingOptions(this);
}
