namespace LlmApp.Gateway.Pipeline;

/// <summary>
/// A request a layer can only find wrong once it runs (a prompt beyond the context, an input the embedding server
/// cannot take, more dimensions than the model has): a 400 naming the parameter, as OpenAI answers it.
/// </summary>
public sealed class InvalidCallException(string message, string param, string? code = null) : CallRefusedException(message)
{
    public string Param { get; } = param;

    public string? Code { get; } = code;

    public override string Reason => Code ?? "invalid_request_error";

    /// <summary>The prompt, as it would be sent, does not fit the backend's context: refused before it takes a slot.</summary>
    public static InvalidCallException ContextLengthExceeded(int context, int tokens) => new(
        $"This model's maximum context length is {context} tokens. However, your messages resulted in {tokens} tokens, which exceeds the " +
        "available context size. Please reduce the length of the messages.",
        "messages",
        "context_length_exceeded");
}
