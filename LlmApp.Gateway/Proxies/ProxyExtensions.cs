using System.Net;
using LlmApp.Gateway.Configuration;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Proxies;

internal static class ProxyExtensions
{
    /// <summary>The <c>Proxy</c> settings, checked at start: each entry an address or a network.</summary>
    public static IHostApplicationBuilder AddTrustedProxies(this IHostApplicationBuilder builder)
    {
        builder.AddSettings<ProxyOptions>(ProxyOptions.SectionName)
            .Validate(options => Parse(options.Trusted, out _), "Proxy:Trusted must list addresses (127.0.0.1, ::1) or networks (10.0.0.0/8), separated by commas.");
        return builder;
    }

    /// <summary>
    /// Takes the client's address and scheme from <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c>, from the trusted
    /// proxies only (<see cref="ProxyOptions.Trusted"/>); with none trusted, the headers are ignored and nothing is added.
    /// </summary>
    public static WebApplication UseTrustedProxies(this WebApplication app)
    {
        Parse(app.Services.GetRequiredService<IOptions<ProxyOptions>>().Value.Trusted, out var trusted);
        if (trusted.Count == 0)
        {
            return app;
        }

        var options = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto, ForwardLimit = 1 };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var network in trusted)
        {
            options.KnownIPNetworks.Add(network);
        }

        app.UseForwardedHeaders(options);
        return app;
    }

    private static bool Parse(string? value, out List<System.Net.IPNetwork> networks)
    {
        networks = [];
        foreach (var entry in (value ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (System.Net.IPNetwork.TryParse(entry, out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(entry, out var address))
            {
                networks.Add(new System.Net.IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            }
            else
            {
                return false;
            }
        }

        return true;
    }
}
