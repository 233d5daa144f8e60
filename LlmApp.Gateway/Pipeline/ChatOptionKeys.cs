namespace LlmApp.Gateway.Pipeline;

/// <summary>
/// Keys of <see cref="Microsoft.Extensions.AI.ChatOptions.AdditionalProperties"/> (and of a tool's) for the OpenAI
/// parameters Microsoft.Extensions.AI has no property for; the backend writer sends each as the parameter it names.
/// </summary>
public static class ChatOptionKeys
{
    /// <summary>
    /// <c>strict</c> of <c>response_format.json_schema</c>, or of a tool's function: the key Microsoft.Extensions.AI's
    /// OpenAI adapter uses for it too.
    /// </summary>
    public const string StrictJsonSchema = "strictJsonSchema";

    /// <summary><c>logprobs</c>: the log probability of each generated token.</summary>
    public const string Logprobs = "logprobs";

    /// <summary><c>top_logprobs</c>: how many of the most likely tokens to list at each position (0 to 20).</summary>
    public const string TopLogprobs = "top_logprobs";

    /// <summary>
    /// The gateway's own: <c>false</c> when the backend must not answer this request from its prompt cache (llama-server's
    /// <c>cache_prompt</c>), set by <see cref="Tenancy.PromptCacheScope"/>; never a client's parameter.
    /// </summary>
    public const string CachePrompt = "llmapp.cache_prompt";

    /// <summary>The gateway's own: vLLM's <c>cache_salt</c>, the key's, which keeps its prompts apart in the cache.</summary>
    public const string CacheSalt = "llmapp.cache_salt";
}
