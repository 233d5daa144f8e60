using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Pipeline;

/// <summary>
/// A piece of a tool call as it streams, in OpenAI's terms: the first piece of a call carries its
/// <see cref="CallId"/> and <see cref="Name"/>, later pieces carry more of its <see cref="Arguments"/> text, and
/// <see cref="Index"/> says which call of the answer it belongs to. Microsoft.Extensions.AI's
/// <see cref="FunctionCallContent"/> is a whole call with parsed arguments; this passes a call on as it is generated,
/// so that a client sees its arguments arrive, and a call cut by <c>max_tokens</c> still arrives as a call.
/// </summary>
public sealed class FunctionCallUpdateContent(int index, string? callId, string? name, string? arguments) : AIContent
{
    public int Index { get; } = index;

    public string? CallId { get; } = callId;

    public string? Name { get; } = name;

    /// <summary>The next piece of the arguments' JSON text, exactly as generated.</summary>
    public string? Arguments { get; } = arguments;
}
