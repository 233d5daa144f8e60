namespace LlmApp.Gateway.Authentication;

/// <summary>The request's key, by name, set as a request feature by <see cref="ApiKeyFilter"/> for the request log.</summary>
public sealed record ApiKeyIdentity(string Name)
{
    /// <summary>What the request log shows when <c>/v1</c> is open.</summary>
    public const string Open = "-";
}
