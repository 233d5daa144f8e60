using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Quotas;

/// <summary>
/// What a request reserves of its key's tokens per minute before it runs: its prompt, estimated, and the most it may
/// generate. <see cref="Minimum"/> is the part the client asked for outright (the prompt and an explicit
/// <c>max_tokens</c>): a request larger than a whole minute's tokens can never run, and is told so.
/// </summary>
internal readonly record struct TokenReservation(long Reserve, long Minimum)
{
    /// <summary>
    /// About four characters a token, as OpenAI estimates it, plus a few tokens per message for the chat template.
    /// A low estimate costs nothing lasting: the reservation is settled against the backend's real usage.
    /// </summary>
    public static long EstimatePrompt(long characters, int messages) => (characters + 3) / 4 + 4L * messages;

    /// <summary>A chat request: its prompt estimate, and <paramref name="maxTokens"/> or, unset, <paramref name="defaultOutput"/>.</summary>
    public static TokenReservation Chat(long promptTokens, int? maxTokens, int defaultOutput) =>
        new(promptTokens + (maxTokens ?? defaultOutput), promptTokens + (maxTokens ?? 0));

    public static TokenReservation Embeddings(long inputTokens) => new(inputTokens, inputTokens);

    /// <summary>
    /// What else of a request the backend reads as prompt, in UTF-16 characters: each tool's name, description and
    /// parameter schema, and the stop strings.
    /// </summary>
    public static long CountDeclarations(ChatOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        long characters = 0;
        foreach (var tool in options.Tools ?? [])
        {
            characters += tool.Name.Length + tool.Description.Length;
            if (tool is AIFunctionDeclaration function)
            {
                characters += function.JsonSchema.GetRawText().Length;
            }
        }

        foreach (var stop in options.StopSequences ?? [])
        {
            characters += stop.Length;
        }

        return characters;
    }
}
