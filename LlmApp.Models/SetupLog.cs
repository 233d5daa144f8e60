namespace LlmApp.Models;

/// <summary>
/// What set-up prints while it resolves the model and llama-server, before the Aspire host (and its logging) starts.
/// </summary>
public static class SetupLog
{
    public static void Info(string message) => Console.WriteLine($"llmapp: {message}");
}
