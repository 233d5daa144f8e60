using LlmApp.Gateway.Apis;
using LlmApp.Gateway.Configuration;
using LlmApp.Gateway.Extensions;
using LlmApp.Gateway.Logging;
using LlmApp.Gateway.Proxies;
using LlmApp.Gateway.Telemetry;

var builder = WebApplication.CreateBuilder(args);

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
});

public partial class Program;
