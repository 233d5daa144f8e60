using LlmApp.Gateway.Apis;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Telemetry;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddLlmBackend();
builder.AddGatewayTelemetry();

var app = builder.Build();

app.UseOpenAIErrorHandling();
app.MapDefaultEndpoints();
app.MapGatewayMetrics();
app.MapModelsApi();
app.MapChatCompletionsApi();

app.Run();

public partial class Program;
