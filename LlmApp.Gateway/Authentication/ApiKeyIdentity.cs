using LlmApp.ApiKeys;
namespace LlmApp.Gateway.Authentication;

/// <summary>
/// The request's key, by name and limits, set as a request feature by <see cref="ApiKeyFilter"/>: the request log shows
/// the name, the per-key limits and admission's fair queues use both. Never the key itself.
/// </summary>
internal sealed record ApiKeyIdentity(string Name, KeyLimits Limits)
{
    /// <summary>What the request log shows when <c>/v1</c> is open.</summary>
    public const string OpenName = "-";

    /// <summary>Every request when <c>/v1</c> is open: one caller, no limits of its own.</summary>
    public static readonly ApiKeyIdentity Open = new(OpenName, KeyLimits.None);
}
