namespace LlmApp.Gateway.Pipeline;

/// <summary>
/// The APIs a chat request can come by, as the <c>llmapp.api</c> tag on the gateway's metrics names them: all are
/// <c>gen_ai.operation.name = chat</c>, and this says which client family asked.
/// </summary>
public static class ChatApis
{
    public const string ChatCompletions = "chat.completions";

    public const string Responses = "responses";

    public const string Messages = "messages";
}
