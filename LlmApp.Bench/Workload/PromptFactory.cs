using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace LlmApp.Bench.Workload;

/// <summary>
/// Synthetic prompts of one length, as many as asked for, each with its own start so that no server can answer one
/// from the prompt cache another left.
/// </summary>
internal sealed class PromptSet(Func<int, string> prompt, int tokensEach, bool measured)
{
    public int TokensEach { get; } = tokensEach;

    /// <summary>Whether <see cref="TokensEach"/> was counted by the server's tokenizer, not estimated.</summary>
    public bool Measured { get; } = measured;

    public string this[int index] => prompt(index);
}

internal sealed class PromptFactory(HttpClient http)
{
    // Plain words, so that any tokenizer gives about one token each.
    private static readonly string[] s_words =
    [
        "the", "light", "house", "keeper", "watched", "a", "ship", "sail", "past", "rocks", "in", "storm", "and", "wrote", "down", "every",
        "wave", "that", "broke", "on", "shore", "while", "gulls", "cried", "over", "grey", "sea", "at", "night", "lamp", "turned", "slowly",
    ];

    // Without a tokenizer, about four characters a token, as OpenAI's guidance has it.
    private const double CharactersPerToken = 4;

    /// <summary>
    /// Prompts of <paramref name="tokens"/> tokens, sized with the first of <paramref name="tokenizeUrls"/> that answers
    /// (llama-server's <c>/tokenize</c>), else estimated.
    /// </summary>
    public async Task<PromptSet> CreateAsync(int tokens, IEnumerable<Uri> tokenizeUrls, CancellationToken cancellationToken)
    {
        foreach (var url in tokenizeUrls)
        {
            if (await TryCountAsync(url, Text(0, 32), cancellationToken) is not { } sample)
            {
                continue;
            }

            // Grow or shrink the word count until the first prompt has the length asked for; the others match it.
            var words = Math.Max(1, (int)Math.Round(32.0 * tokens / sample));
            for (var attempt = 0; attempt < 4; attempt++)
            {
                var measured = await TryCountAsync(url, Text(0, words), cancellationToken) ?? tokens;
                if (measured == tokens)
                {
                    break;
                }

                words = Math.Max(1, words + (tokens - measured));
            }

            return new PromptSet(i => Text(i, words), await TryCountAsync(url, Text(0, words), cancellationToken) ?? tokens, measured: true);
        }

        return new PromptSet(i => TextOfLength(i, (int)(tokens * CharactersPerToken)), tokens, measured: false);
    }

    private async Task<int?> TryCountAsync(Uri url, string text, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.PostAsJsonAsync(url, new Dictionary<string, string> { ["content"] = text }, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            return body.RootElement.TryGetProperty("tokens", out var ids) && ids.ValueKind == JsonValueKind.Array ? ids.GetArrayLength() : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
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
