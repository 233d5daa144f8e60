using LlmApp.Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Authentication;

internal static class ApiKeyExtensions
{
    /// <summary>The <c>Auth</c> settings, checked at start, the keys in force, and the watch on the keys file.</summary>
    public static IHostApplicationBuilder AddApiKeys(this IHostApplicationBuilder builder)
    {
        builder.AddSettings<AuthOptions>(AuthOptions.SectionName);
        builder.Services.AddSingleton<IValidateOptions<AuthOptions>, ApiKeysValidator>();
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<FailedAuthentications>();
        builder.Services.AddHostedService<ApiKeysMonitor>();
        return builder;
    }

    /// <summary>Every endpoint of <paramref name="api"/> takes a key (see <see cref="ApiKeyFilter"/>) once one is configured.</summary>
    public static RouteGroupBuilder RequireApiKeys(this RouteGroupBuilder api)
    {
        api.AddEndpointFilter<ApiKeyFilter>();
        return api;
    }
}
