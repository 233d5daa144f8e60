using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Pipeline;

/// <summary><see cref="EmbeddingGenerationOptions"/> that carry the request's <see cref="CallContext"/> down the pipeline, as <see cref="GatewayChatOptions"/> do for chat.</summary>
public sealed class GatewayEmbeddingOptions : EmbeddingGenerationOptions
{
    public GatewayEmbeddingOptions(CallContext call)
    {
        Call = call;
    }

    private GatewayEmbeddingOptions(GatewayEmbeddingOptions other)
        : base(other)
    {
        Call = other.Call;
    }

    public CallContext Call { get; }

    public override EmbeddingGenerationOptions Clone() => new GatewayEmbeddingOptions(this);

    /// <summary>The request this embedding call belongs to, if it came through the gateway's endpoint.</summary>
    public static CallContext? GetCall(EmbeddingGenerationOptions? options) => (options as GatewayEmbeddingOptions)?.Call;
}
