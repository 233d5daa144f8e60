namespace LlmApp.Gateway.Proxies;

/// <summary>
/// The <c>Proxy</c> section: the reverse proxies (a TLS terminator, a load balancer) whose <c>X-Forwarded-For</c> and
/// <c>X-Forwarded-Proto</c> the gateway believes. Unset, it believes no one's: anyone can write those headers, and the
/// address they name is what the logs show and what failed keys are counted against.
/// </summary>
public sealed class ProxyOptions
{
    public const string SectionName = "Proxy";

    /// <summary>
    /// Addresses or networks of the trusted proxies, separated by commas or semicolons: <c>127.0.0.1</c>,
    /// <c>10.0.0.0/8</c>, <c>::1</c>. A request from anywhere else keeps its own address whatever it claims.
    /// </summary>
    public string? Trusted { get; set; }
}
