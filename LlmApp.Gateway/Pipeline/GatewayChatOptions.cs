using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Pipeline;

/// <summary>
/// <see cref="ChatOptions"/> that carry the request's <see cref="CallContext"/> down the Microsoft.Extensions.AI
/// pipeline. ChatOptions is made for this (a protected copy constructor and a virtual <see cref="Clone"/>), and
/// unlike <see cref="ChatOptions.AdditionalProperties"/> nothing serialises it or puts it on a span.
/// </summary>
public sealed class GatewayChatOptions : ChatOptions
{
    /// <summary>A copy of <paramref name="options"/> for <paramref name="call"/>.</summary>
    public GatewayChatOptions(ChatOptions? options, CallContext call)
        : base(options)
    {
        Call = call;
    }

    public CallContext Call { get; }

    public override ChatOptions Clone() => new GatewayChatOptions(this, Call);
}

public static class ChatOptionsExtensions
{
    /// <summary>The request this chat call belongs to, if it came through the gateway's endpoint.</summary>
    public static CallContext? GetCall(this ChatOptions? options) => (options as GatewayChatOptions)?.Call;
}
