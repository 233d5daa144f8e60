using System.Text;

namespace LlmApp.Bench.Workload;

/// <summary>
/// Synthetic prompts of one length, as many as asked for, each with its own start so that no server can answer one
/// from the prompt cache another left.
/// </summary>
internal sealed class PromptSet(Func<int, string> prompt, int tokensEach, TokenCount countedBy)
{
    public int TokensEach { get; } = tokensEach;

    /// <summary>How <see cref="TokensEach"/> was counted: by the server (its tokenizer or its usage), or estimated.</summary>
    public TokenCount CountedBy { get; } = countedBy;

    /// <summary>Whether <see cref="TokensEach"/> was counted by the server, not estimated.</summary>
    public bool Measured => CountedBy != TokenCount.Estimate;

    public string this[int index] => prompt(index);
}

internal static class PromptFactory
{
    // Plain words, so that any tokenizer gives about one token each.
    private static readonly string[] s_words =
    [
        "the", "light", "house", "keeper", "watched", "a", "ship", "sail", "past", "rocks", "in", "storm", "and", "wrote", "down", "every",
        "wave", "that", "broke", "on", "shore", "while", "gulls", "cried", "over", "grey", "sea", "at", "night", "lamp", "turned", "slowly",
    ];

    // Without a server that counts, about four characters a token, as OpenAI's guidance has it.
    private const double CharactersPerToken = 4;

    /// <summary>
    /// Prompts of <paramref name="tokens"/> tokens, sized with <paramref name="counter"/> (the server's own count), else
    /// estimated. Counting with a chat endpoint's usage costs a few one-token answers; each starts with the one before
    /// it, so that a server with a prompt cache reads the whole prompt about once.
    /// </summary>
    public static async Task<PromptSet> CreateAsync(int tokens, TokenCounter? counter, CancellationToken cancellationToken)
    {
        if (counter is null || await counter.CountAsync(Text(0, 32), cancellationToken) is not { } sample || sample <= 0)
        {
            return new PromptSet(i => TextOfLength(i, (int)(tokens * CharactersPerToken)), tokens, TokenCount.Estimate);
        }

        // Grow or shrink the word count until prompt 0 has the length asked for; the others have as many words (a token
        // or two more or less).
        var words = Math.Max(1, (int)Math.Round(32.0 * tokens / sample));
        var measured = await counter.CountAsync(Text(0, words), cancellationToken);
        for (var attempt = 0; attempt < 4 && measured is { } count && count != tokens; attempt++)
        {
            words = Math.Max(1, words + (tokens - count));
            measured = await counter.CountAsync(Text(0, words), cancellationToken);
        }

        // The chat endpoint read prompt 0 to count it, and a server with a prompt cache keeps it: the run starts at 1.
        var first = counter.Kind == TokenCount.Usage ? 1 : 0;
        return new PromptSet(i => Text(first + i, words), measured ?? tokens, measured is null ? TokenCount.Estimate : counter.Kind);
    }

    /// <summary>Prompt <paramref name="index"/>: its own number first, then words in an order of its own.</summary>
    private static string Text(int index, int words)
    {
        var random = new Random(index);
        var text = new StringBuilder().Append("Request ").Append(index).Append(':');
        for (var i = 0; i < words; i++)
        {
            text.Append(' ').Append(s_words[random.Next(s_words.Length)]);
        }

        return text.ToString();
    }

    private static string TextOfLength(int index, int characters)
    {
        var text = Text(index, characters / 4 + 1);
        return text.Length <= characters ? text : text[..characters];
    }
}
