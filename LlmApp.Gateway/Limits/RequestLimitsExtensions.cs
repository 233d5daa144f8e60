using LlmApp.Gateway.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Limits;

internal static class RequestLimitsExtensions
{
    /// <summary>The <c>Limits</c> settings, and Kestrel's body size and minimum body rate set from them.</summary>
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

            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes;
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(limits.MinBodyBytesPerSecond, limits.BodyGracePeriod);
        });
        return builder;
    }
}
