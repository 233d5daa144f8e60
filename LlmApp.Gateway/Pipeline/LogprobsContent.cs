using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Pipeline;

/// <summary>
/// The backend's <c>logprobs</c> object for the tokens of an update (or of a whole answer), kept as the JSON it sent:
/// the gateway passes it on untouched, in OpenAI's shape, beside the content it belongs to.
/// </summary>
public sealed class LogprobsContent(ReadOnlyMemory<byte> json) : AIContent
{
    /// <summary>The UTF-8 JSON of the object, <c>{"content":[{"token":...,"logprob":...,"bytes":[...],"top_logprobs":[...]}]}</c>.</summary>
    public ReadOnlyMemory<byte> Json { get; } = json;
}
