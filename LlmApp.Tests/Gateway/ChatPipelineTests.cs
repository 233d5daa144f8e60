using LlmApp.Gateway.Admission;
using LlmApp.Gateway.Hosting;
using LlmApp.Gateway.Limits;
using LlmApp.Gateway.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LlmApp.Tests.Gateway;

/// <summary>
/// The gateway's chat pipeline as its services build it. Microsoft.Extensions.AI's OpenTelemetry client keeps every
/// streamed update until the answer ends, for its span; it is in the pipeline only where spans go somewhere.
/// </summary>
public sealed class ChatPipelineTests
{
    [Theory]
    [InlineData("http://127.0.0.1:4317", true)]
    [InlineData(null, false)]
    public async Task TheOpenTelemetryChatClientIsThereOnlyWhenSpansAreExported(string? otlpEndpoint, bool expected)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpEndpoint;
        builder.Configuration["Backend:Endpoint"] = "http://127.0.0.1:9";
        builder.Configuration["Backend:Model"] = "test-model";
        builder.AddServiceDefaults();
        builder.AddGatewayServices();
        await using var app = builder.Build();

        var chat = app.Services.GetRequiredService<IChatClient>();

        Assert.Equal(expected, chat.GetService<OpenTelemetryChatClient>() is not null);
        // The rest of the pipeline is the same either way.
        Assert.NotNull(chat.GetService<GatewayTelemetryChatClient>());
        Assert.NotNull(chat.GetService<ContextWindowChatClient>());
        Assert.NotNull(chat.GetService<AdmissionChatClient>());
    }
}
