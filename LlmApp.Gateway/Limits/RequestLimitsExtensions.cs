using LlmApp.Gateway.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Limits;

internal static class RequestLimitsExtensions
{
    /// <summary>
    /// The <c>Limits</c> settings, and Kestrel's limits set from them: body size and slowest body, connections open at
    /// once, idle and header timeouts. No <c>Server</c> header: it tells a scanner what to try, and clients nothing.
    /// </summary>
    public static IHostApplicationBuilder AddRequestLimits(this IHostApplicationBuilder builder)
    {
        builder.AddSettings<RequestLimitsOptions>(RequestLimitsOptions.SectionName);
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<RequestLimitsOptions>>((kestrel, settings) =>
        {
            RequestLimitsOptions limits;
            try
            {
                limits = settings.Value;
            }
            catch (OptionsValidationException)
            {
                // Reported, with every other bad setting, by the start-up validation.
                return;
            }

            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes;
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(limits.MinBodyBytesPerSecond, limits.BodyGracePeriod);
            kestrel.Limits.MaxConcurrentConnections = limits.MaxConnections;
            kestrel.Limits.KeepAliveTimeout = limits.KeepAliveTimeout;
            kestrel.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
        });
        return builder;
    }
}
