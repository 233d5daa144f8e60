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

    /// <summary>
    /// The call continues the last message, the assistant's answer cut on another replica: the backend is asked to go on
    /// from its text (<c>continue_final_message</c>, no new assistant turn) and sends only what comes after it.
    /// </summary>
    public bool ContinuesFinalMessage { get; init; }

    /// <summary>The client's own <c>max_tokens</c>, when <see cref="ChatOptions.MaxOutputTokens"/> is what is left of it: the deadline is the request's.</summary>
    public int? RequestedMaxOutputTokens { get; init; }

    public override ChatOptions Clone() => new GatewayChatOptions(this, Call)
    {
        ContinuesFinalMessage = ContinuesFinalMessage,
        RequestedMaxOutputTokens = RequestedMaxOutputTokens,
    };
}

public static class ChatOptionsExtensions
{
    /// <summary>The request this chat call belongs to, if it came through the gateway's endpoint.</summary>
    public static CallContext? GetCall(this ChatOptions? options) => (options as GatewayChatOptions)?.Call;

    /// <summary>The <c>max_tokens</c> the request's deadline is counted from: the client's, also when a continuation asks for what is left.</summary>
    public static int? DeadlineMaxOutputTokens(this ChatOptions? options) =>
        options is GatewayChatOptions { RequestedMaxOutputTokens: { } requested } ? requested : options?.MaxOutputTokens;
}
