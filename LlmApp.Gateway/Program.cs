using LlmApp.Gateway.Apis;
using LlmApp.Gateway.Backend;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddLlmBackend();

var app = builder.Build();

app.UseOpenAIErrorHandling();
app.MapDefaultEndpoints();
app.MapModelsApi();
app.MapChatCompletionsApi();

app.Run();

public partial class Program;
