using System.ClientModel;
using OpenAI;
using OpenAI.Chat;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// The gateway in front of a llama-server of its own, through a <see cref="MidAnswerErrorProxy"/> that ends every answer
/// to one prompt with llama-server's mid-answer error. A server of its own, because sampling at temperature 1 with a
/// seed is deterministic only while nothing else runs on it, and the tests compare the gateway's answer with the
/// server's own.
/// </summary>
public sealed class IntegrityAppFixture : IAsyncLifetime
{
    private LlamaServerProcess? _server;
    private MidAnswerErrorProxy? _proxy;
    private GatewayProcess? _gateway;

    public HttpClient Gateway => _gateway?.Client ?? throw new InvalidOperationException("The gateway has not started.");

    /// <summary>Without <c>Management:Port</c>, the gateway serves <c>/metrics</c> on its API port.</summary>
    public HttpClient Management => Gateway;

    public Uri GatewayBaseAddress => Gateway.BaseAddress!;

    /// <summary>Straight to llama-server, with its key, past the proxy.</summary>
    public HttpClient Backend { get; private set; } = null!;

    public MidAnswerErrorProxy Proxy => _proxy ?? throw new InvalidOperationException("The proxy has not started.");

    public ChatClient CreateChatClient() =>
        new(GatewayAppFixture.ServedModel, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(GatewayBaseAddress, "v1") });

    public async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(20));
        _server = await LlamaServerProcess.StartAsync(["--parallel", "2", "--ctx-size", "8192", "--no-jinja", "--alias", GatewayAppFixture.ServedModel], cts.Token);
        _proxy = await MidAnswerErrorProxy.StartAsync(_server.Address);
        _gateway = await GatewayProcess.StartAsync(new Dictionary<string, string>
        {
            ["Backend__Endpoint"] = _proxy.Address.ToString(),
            ["Backend__Model"] = GatewayAppFixture.ServedModel,
            ["Backend__ApiKey"] = _server.Key,
            ["Resilience__MaxConcurrentRequests"] = "2",
        });
        Backend = new HttpClient { BaseAddress = _server.Address, Timeout = TimeSpan.FromMinutes(2) };
        Backend.DefaultRequestHeaders.ConnectionClose = true;
        Backend.DefaultRequestHeaders.Authorization = new("Bearer", _server.Key);
    }

    public async Task DisposeAsync()
    {
        Backend?.Dispose();
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class IntegrityAppCollectionDefinition : ICollectionFixture<IntegrityAppFixture>
{
    public const string Name = "integrity app";
}
