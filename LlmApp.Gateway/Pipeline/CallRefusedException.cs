namespace LlmApp.Gateway.Pipeline;

/// <summary>
/// A call a layer turned away before it reached a backend (admission, the context check): the client's answer is
/// the refusal's, it is no backend's failure, and it costs the key no tokens. The failure classifier maps each kind.
/// </summary>
public abstract class CallRefusedException(string message) : Exception(message)
{
    /// <summary>The refusal's reason as the request log and <c>error.type</c> name it.</summary>
    public abstract string Reason { get; }
}
