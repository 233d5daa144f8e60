namespace LlmApp.Gateway.Pipeline;

/// <summary>The GenAI operations a backend serves, named as <c>gen_ai.operation.name</c> names them.</summary>
public static class Operations
{
    public const string Chat = "chat";

    public const string Embeddings = "embeddings";
}
