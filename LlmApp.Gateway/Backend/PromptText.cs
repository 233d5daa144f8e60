using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// A prompt's size in characters of text, the cheap measure admission predicts its tokens from (with the backend's
/// learned characters a token), without a call to the backend's tokenizer.
/// </summary>
public static class PromptText
{
    /// <summary>Characters of text in <paramref name="messages"/>.</summary>
    public static long Chars(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        long chars = 0;
        foreach (var message in messages)
        {
            foreach (var content in message.Contents)
            {
                if (content is TextContent text)
                {
                    chars += text.Text.Length;
                }
            }
        }

        return chars;
    }

    /// <summary>
    /// Characters of text up to and including the last assistant message: the part of a follow-up that the replica
    /// which answered the turn before holds in its prompt cache. 0 for a first turn.
    /// </summary>
    public static long CachedChars(IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        for (var i = messages.Count - 1; i >= 0; i--)
        {
            if (messages[i].Role == ChatRole.Assistant)
            {
                return Chars(messages.Take(i + 1));
            }
        }

        return 0;
    }
}
