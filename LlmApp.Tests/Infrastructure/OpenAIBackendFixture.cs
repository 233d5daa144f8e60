using System.ClientModel;
using OpenAI;
using OpenAI.Chat;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// The gateway as it runs in front of vLLM (<c>Backend:Kind=openai</c>, capacity from settings, tools passed through),
/// here in front of a real llama-server with <c>--jinja</c>, which, like vLLM, takes tools itself. A
/// <see cref="RecordingRelay"/> between them shows what the backend was sent. vLLM itself needs a GPU and an image
/// that cannot be fetched here; llama-server speaks the same protocol.
/// </summary>
public sealed class OpenAIBackendFixture : IAsyncLifetime
{
    /// <summary>Tokens of context per slot: small, so that a test can go past it cheaply.</summary>
    public const int ContextPerSlot = 1024;

    public const string ServedModel = "llama-2-tiny-random";

    private LlamaServerProcess? _server;

    public RecordingRelay Relay { get; private set; } = null!;

    public GatewayProcess Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(20));
        _server = await LlamaServerProcess.StartAsync(
            ["--jinja", "--parallel", "2", "--ctx-size", (2 * ContextPerSlot).ToString(System.Globalization.CultureInfo.InvariantCulture), "--alias", ServedModel],
            cts.Token);
        Relay = new RecordingRelay(_server.Address);
        Gateway = await GatewayProcess.StartAsync(new Dictionary<string, string>
        {
            ["Backend__Endpoint"] = Relay.Address.ToString(),
            ["Backend__Model"] = ServedModel,
            ["Backend__Kind"] = "openai",
            ["Backend__ApiKey"] = _server.Key,
            ["Backend__ContextLength"] = ContextPerSlot.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Resilience__MaxConcurrentRequests"] = "2",
        });
    }

    public ChatClient CreateChatClient() =>
        new(ServedModel, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(Gateway.Client.BaseAddress!, "v1") });

    public async Task DisposeAsync()
    {
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        if (Relay is not null)
        {
            await Relay.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
