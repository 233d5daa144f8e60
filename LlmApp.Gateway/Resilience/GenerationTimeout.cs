namespace LlmApp.Gateway.Resilience;

/// <summary>Which deadline ended a generation early.</summary>
public enum GenerationTimeout
{
    None,
    FirstToken,
    Idle,
    Total,
    Shutdown,
}

/// <summary>A generation passed one of its deadlines (or the drain window after SIGTERM ended) and was cancelled.</summary>
public sealed class GenerationTimeoutException(GenerationTimeout timeout, Exception? inner = null)
    : TimeoutException(Describe(timeout), inner)
{
    public GenerationTimeout Timeout { get; } = timeout;

    private static string Describe(GenerationTimeout timeout) => timeout switch
    {
        GenerationTimeout.FirstToken => "The model backend produced no first token in time.",
        GenerationTimeout.Idle => "The model backend stopped producing tokens.",
        GenerationTimeout.Shutdown => "The server is shutting down; the answer was cut short.",
        _ => "The request did not finish before its deadline.",
    };
}
