using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlmApp.Tests.Infrastructure;

/// <summary>A real Kestrel server of a test's own, on a free loopback port, quiet, started with the routes it is given.</summary>
public static class LoopbackApp
{
    public static async Task<(WebApplication App, Uri Address)> StartAsync(Action<WebApplication> routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        routes(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return (app, new Uri(address));
    }
}
