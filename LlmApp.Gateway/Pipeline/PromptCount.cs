namespace LlmApp.Gateway.Pipeline;

/// <summary>
/// The prompt's tokens as the backend counted them before its first token, for an API that reports them up front
/// (Anthropic's <c>message_start</c>). The API puts one in the call's options under <see cref="Key"/>; llama-server is
/// then asked for its prompt progress (<c>return_progress</c>: one event before generation, and one a batch of the
/// prompt), which fills it in before the first token reaches the API's writer. Other kinds leave it empty.
/// </summary>
public sealed class PromptCount
{
    /// <summary>The gateway's own key in <c>ChatOptions.AdditionalProperties</c>; never a client's parameter.</summary>
    public const string Key = "llmapp.prompt_count";

    private int _total = -1;
    private int _cached;

    /// <summary>The prompt's tokens, those its cache held included; null until the backend has said.</summary>
    public int? Total => Volatile.Read(ref _total) is >= 0 and var total ? total : null;

    /// <summary>The prompt's tokens the backend's cache held.</summary>
    public int Cached => Volatile.Read(ref _cached);

    public void Set(int total, int cached)
    {
        Volatile.Write(ref _cached, cached);
        Volatile.Write(ref _total, total);
    }

    public static PromptCount? Of(Microsoft.Extensions.AI.ChatOptions? options) =>
        options?.AdditionalProperties is { } properties && properties.TryGetValue(Key, out PromptCount? count) ? count : null;
}
