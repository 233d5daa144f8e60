using System.Net;

namespace LlmApp.Gateway.Configuration;

/// <summary>
/// Where the gateway will listen, read from the settings Kestrel reads (<c>urls</c>, <c>http_ports</c>,
/// <c>https_ports</c>, <c>Kestrel:Endpoints:*:Url</c>), before it listens: whether anything beyond this machine can reach
/// it decides whether it may serve <c>/v1</c> without keys.
/// </summary>
internal static class ListenAddresses
{
    // ASP.NET Core's own default when nothing is configured.
    private const string Default = "http://localhost:5000";

    /// <summary>The addresses, as configured (a port setting is every interface: <c>http://*:8080</c>).</summary>
    public static IReadOnlyList<string> From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var addresses = new List<string>();
        addresses.AddRange(Split(configuration["urls"]));
        addresses.AddRange(Split(configuration["http_ports"]).Select(port => $"http://*:{port}"));
        addresses.AddRange(Split(configuration["https_ports"]).Select(port => $"https://*:{port}"));
        addresses.AddRange(configuration.GetSection("Kestrel:Endpoints").GetChildren()
            .Select(endpoint => endpoint["Url"]).OfType<string>().Where(url => url.Length > 0));
        return addresses.Count > 0 ? addresses : [Default];
    }

    /// <summary>Whether <paramref name="host"/> (an address's host, or a published bind address) is this machine only.</summary>
    public static bool IsLoopback(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var trimmed = host.Trim().TrimStart('[').TrimEnd(']');
        return string.Equals(trimmed, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(trimmed, out var address) && IPAddress.IsLoopback(address));
    }

    /// <summary>The host of a listen address (<c>http://0.0.0.0:8080</c> → <c>0.0.0.0</c>; <c>*</c> and <c>+</c> stay as they are).</summary>
    public static string HostOf(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var rest = address.Contains("://", StringComparison.Ordinal) ? address[(address.IndexOf("://", StringComparison.Ordinal) + 3)..] : address;
        rest = rest.Split('/')[0];
        if (rest.StartsWith('['))
        {
            return rest[..(rest.IndexOf(']', StringComparison.Ordinal) + 1)];
        }

        var colon = rest.LastIndexOf(':');
        return colon >= 0 ? rest[..colon] : rest;
    }

    private static string[] Split(string? value) =>
        (value ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
