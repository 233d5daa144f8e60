using System.Text;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Streaming;

/// <summary>
/// A whole answer's content in the order generated, as the Responses and Messages APIs lay it out: each run of text
/// joined into one part, each function call a part of its own.
/// </summary>
internal static class AnswerParts
{
    public static IEnumerable<(string? Text, FunctionCallContent? Call)> Of(ChatResponse response)
    {
        var text = new StringBuilder();
        foreach (var message in response.Messages)
        {
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextContent { Text.Length: > 0 } part:
                        text.Append(part.Text);
                        break;
                    case FunctionCallContent call:
                        if (text.Length > 0)
                        {
                            yield return (text.ToString(), null);
                            text.Clear();
                        }

                        yield return (null, call);
                        break;
                }
            }
        }

        if (text.Length > 0)
        {
            yield return (text.ToString(), null);
        }
    }
}
