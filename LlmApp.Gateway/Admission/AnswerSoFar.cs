using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Admission;

/// <summary>
/// What of a streamed answer has gone up to the client, kept so that a backend's cut can be continued on another
/// replica: the text as the backend sent it (references to the strings the updates already hold, not a copy), the
/// updates that carried output (one a token from llama-server and vLLM, which send a character's bytes whole), and
/// whether anything came that a continuation cannot pick up exactly (a tool call, reasoning). Made only for a call
/// that may be continued (<see cref="MayContinue"/>); every other call streams without it.
/// </summary>
internal sealed class AnswerSoFar
{
    private readonly List<string> _pieces = [];
    private int _tokensBeforePart;
    private long _resumePromptTokens;

    /// <summary>Updates with output so far, over every part: the tokens the client has received.</summary>
    public int Tokens { get; private set; }

    /// <summary>False once a tool call or reasoning came, or the answer finished: nothing is continued from there.</summary>
    public bool Continuable { get; private set; } = true;

    /// <summary>
    /// Whether a call asked with <paramref name="options"/> can be continued at all: only text whose generation carries
    /// no state the continuation would lose, with no tools offered. A grammar (JSON mode, a schema, the tool-call emulation's) is in mid-parse at
    /// the cut, and log probabilities of the tokens already sent cannot be given again.
    /// </summary>
    public static bool MayContinue(ChatOptions? options) =>
        options?.ResponseFormat is not ChatResponseFormatJson && !AsksLogprobs(options) && !OffersTools(options);

    /// <summary>A tool call may begin at any token, and a continuation asked as a completion would pass one on as text.</summary>
    private static bool OffersTools(ChatOptions? options) => options?.Tools is { Count: > 0 } && options.ToolMode is not NoneChatToolMode;

    private static bool AsksLogprobs(ChatOptions? options) =>
        options?.AdditionalProperties is { } additional && additional.TryGetValue(ChatOptionKeys.Logprobs, out bool logprobs) && logprobs;

    public void Add(ChatResponseUpdate update)
    {
        // By index: a foreach over the IList would allocate an enumerator for every token.
        var contents = update.Contents;
        var output = false;
        for (var i = 0; i < contents.Count; i++)
        {
            switch (contents[i])
            {
                case TextContent { Text.Length: > 0 } text:
                    _pieces.Add(text.Text);
                    output = true;
                    break;
                case TextReasoningContent { Text.Length: > 0 } or FunctionCallUpdateContent or FunctionCallContent:
                    Continuable = false;
                    output = true;
                    break;
            }
        }

        if (output)
        {
            Tokens++;
        }

        if (update.FinishReason is not null)
        {
            Continuable = false;
        }
    }

    /// <summary>
    /// The call that continues the answer: the original <paramref name="messages"/> and the text sent so far as the
    /// assistant's last, unfinished message, for what is left of the client's <c>max_tokens</c>. Null when nothing is left.
    /// </summary>
    public (IReadOnlyList<ChatMessage> Messages, ChatOptions Options)? Continuation(IReadOnlyList<ChatMessage> messages, ChatOptions options)
    {
        var requested = options.DeadlineMaxOutputTokens();
        if (requested - Tokens is <= 0)
        {
            return null;
        }

        _tokensBeforePart = Tokens;
        var call = options.GetCall() ?? throw new InvalidOperationException("A continued call came through the gateway's endpoint.");
        var continued = new GatewayChatOptions(options, call)
        {
            ContinuesFinalMessage = true,
            RequestedMaxOutputTokens = requested,
            MaxOutputTokens = requested - Tokens,
        };
        return ([.. messages, new ChatMessage(ChatRole.Assistant, string.Concat(_pieces))], continued);
    }

    /// <summary>
    /// The continuation's usage, made the client's: its prompt is the client's (as the backend counted it, or the
    /// continuation's less the tokens received before it); its output is those tokens and the continuation's.
    /// What the continuation's prompt cost is returned, the gateway's own.
    /// </summary>
    public long ToClientUsage(UsageDetails continued)
    {
        var prompt = continued.InputTokenCount ?? 0;
        _resumePromptTokens += prompt;
        // As the backend counted it (llama-server), else the continuation's prompt less the tokens received before it,
        // which is off where the text sent reads back as other tokens than were generated.
        long clientPrompt = continued.AdditionalCounts?.Remove(BackendUsage.PromptBeforeContinuationKey, out var before) == true
            ? before
            : Math.Max(0, prompt - _tokensBeforePart);
        continued.InputTokenCount = clientPrompt;
        if (continued.CachedInputTokenCount is { } cached)
        {
            continued.CachedInputTokenCount = Math.Min(cached, clientPrompt);
        }

        continued.OutputTokenCount = _tokensBeforePart + (continued.OutputTokenCount ?? 0);
        continued.TotalTokenCount = continued.InputTokenCount + continued.OutputTokenCount;
        return _resumePromptTokens;
    }
}
