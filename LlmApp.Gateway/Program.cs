using LlmApp.Gateway.Apis;
using LlmApp.Gateway.Configuration;
using LlmApp.Gateway.Hosting;
using LlmApp.Gateway.Logging;
using LlmApp.Gateway.Proxies;
using LlmApp.Gateway.Telemetry;

// --check: check the settings, say so, and exit without listening (compose's gateway-check runs it before anything starts).
var checkOnly = args.Contains(GatewayRunExtensions.CheckArgument);
var builder = WebApplication.CreateBuilder([.. args.Where(a => a != GatewayRunExtensions.CheckArgument)]);

builder.UseInlineIo();
builder.AddServiceDefaults();
builder.UseBufferedConsoleLogging();
builder.AddGatewayServices();

return builder.RunGateway(app =>
{
    app.UseTrustedProxies();
    app.UseOpenAIErrorHandling();
    app.MapDefaultEndpoints();
    app.MapGatewayMetrics();
    app.MapOpenAIApi();
}, checkOnly);

public partial class Program;
