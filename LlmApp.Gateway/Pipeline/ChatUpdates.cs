using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Pipeline;

/// <summary>
/// The one definition of which updates of a stream carry output: text, a piece of a tool call (streamed, as vLLM and
/// the tool-call emulation stream them, or whole), or reasoning. Time to first token, the first-token and idle
/// deadlines, and the writer's idea of a started answer all go by it.
/// </summary>
public static class ChatUpdates
{
    public static bool CarriesOutput(ChatResponseUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        // By index: a foreach over the IList would allocate an enumerator for every token.
        var contents = update.Contents;
        for (var i = 0; i < contents.Count; i++)
        {
            if (contents[i] is TextContent { Text.Length: > 0 } or TextReasoningContent { Text.Length: > 0 } or FunctionCallUpdateContent or FunctionCallContent)
            {
                return true;
            }
        }

        return false;
    }
}
