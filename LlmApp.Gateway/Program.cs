using LlmApp.Gateway.Apis;
using LlmApp.Gateway.Configuration;
using LlmApp.Gateway.Extensions;
using LlmApp.Gateway.Telemetry;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGatewayServices();

var app = builder.Build();

app.UseOpenAIErrorHandling();
app.MapDefaultEndpoints();
app.MapGatewayMetrics();
app.MapOpenAIApi();

return app.RunGateway();

public partial class Program;
