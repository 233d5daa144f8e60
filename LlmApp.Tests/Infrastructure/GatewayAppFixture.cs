using System.ClientModel;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using OpenAI;
using OpenAI.Chat;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// Starts the real AppHost through Aspire.Hosting.Testing: the real llama-server (found or built the way a user's
/// first run does it) serving the tiny test model, and the real gateway in front of it, on free ports.
/// </summary>
public sealed class GatewayAppFixture : IAsyncLifetime
{
    // Generous: on a clean machine the first start builds llama-server from source (about 7 minutes on 2 cores).
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromMinutes(20);

    private DistributedApplication? _app;

    public const string ServedModel = "llama-2-tiny-random";

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The app has not started.");

    public HttpClient Gateway { get; private set; } = null!;

    public Uri GatewayBaseAddress => Gateway.BaseAddress!;

    public ChatClient CreateChatClient(string model = ServedModel) =>
        new(model, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(GatewayBaseAddress, "v1") });

    public async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(s_startTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.LlmApp_AppHost>(
            [$"--Llm:Model={TestPaths.TestModel}", "--Llm:GatewayPort=0"],
            cts.Token);

        _app = await builder.BuildAsync(cts.Token);
        await _app.StartAsync(cts.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("gateway", cts.Token);
        Gateway = _app.CreateHttpClient("gateway", "http");
    }

    public async Task DisposeAsync()
    {
        Gateway?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayAppCollectionDefinition : ICollectionFixture<GatewayAppFixture>
{
    public const string Name = "gateway app";
}
