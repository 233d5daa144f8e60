using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using LlmApp.AppHost.LlamaCpp;
using LlmApp.AppHost.Settings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// Starts the real AppHost through Aspire.Hosting.Testing: the real llama-server (found or built the way a user's
/// first run does it) serving the tiny test model, and the real gateway in front of it, on free ports.
/// </summary>
public class GatewayAppFixture : IAsyncLifetime
{
    // Generous: on a clean machine the first start builds llama-server from source (about 6 minutes on 2 cores).
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromMinutes(20);

    // Long enough for the longest stream a test reads; a test that hangs still ends.
    private static readonly TimeSpan s_clientTimeout = TimeSpan.FromMinutes(2);

    private DistributedApplication? _app;

    public const string ServedModel = "llama-2-tiny-random";

    /// <summary>The embedding model: the same tiny file, served by a second llama-server with mean pooling (8-dimensional vectors).</summary>
    public const string EmbeddingModel = "tiny-embed";

    /// <summary>The embedding server's batch, kept small so that a test can go past it.</summary>
    public const int EmbeddingBatchSize = 64;

    public static readonly TimeSpan KeepAliveInterval = TimeSpan.FromMilliseconds(100);

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The app has not started.");

    public HttpClient Gateway { get; private set; } = null!;

    /// <summary>The gateway's management port, where its /metrics is served apart from the API.</summary>
    public HttpClient Management { get; private set; } = null!;

    /// <summary>
    /// Settings the gateway gets in these tests. Keep-alive comments come after 100 ms of silence instead of 15 s, so that
    /// a long prompt shows them; max_tokens has a ceiling.
    /// </summary>
    protected virtual IEnumerable<(string Name, string Value)> GatewayEnvironment =>
        [("Streaming__KeepAliveInterval", KeepAliveInterval.ToString()), ("Limits__MaxOutputTokens", MaxOutputTokens.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>The gateway's ceiling on max_tokens in these tests: under the context (4096), so that the ceiling is what refuses.</summary>
    public const int MaxOutputTokens = 4000;

    /// <summary>
    /// More AppHost arguments. A local Prometheus (installed by .ci/run) scrapes every second on a free port. An embedding
    /// server serves the tiny model too; it is told the model allows shortened vectors, so that <c>dimensions</c> runs.
    /// </summary>
    protected virtual IEnumerable<string> AppHostArguments =>
    [
        "--Llm:Prometheus:Port=0", "--Llm:Prometheus:ScrapeInterval=00:00:01",
        $"--Llm:EmbeddingModel={TestPaths.TestModel}", $"--Llm:EmbeddingServedModelName={EmbeddingModel}", "--Llm:EmbeddingPooling=mean",
        "--Llm:EmbeddingMatryoshka=true", $"--Llm:EmbeddingBatchSize={EmbeddingBatchSize}",
    ];

    /// <summary>The llama-server resource <see cref="Backend"/> talks to: <c>llm</c>, or the first replica when there are several.</summary>
    protected virtual string BackendName => "llm";

    /// <summary>The operating-system process id of a llama-server (by default <see cref="BackendName"/>), as Aspire reports it.</summary>
    public int BackendProcessId(string? resource = null)
    {
        resource ??= BackendName;
        if (!App.ResourceNotifications.TryGetCurrentState(resource, out var state))
        {
            throw new InvalidOperationException($"The {resource} resource has no state.");
        }

        var pid = state.Snapshot.Properties.Single(p => p.Name == "executable.pid").Value;
        return Convert.ToInt32(pid, System.Globalization.CultureInfo.InvariantCulture);
    }

    public Uri GatewayBaseAddress => Gateway.BaseAddress!;

    /// <summary>llama-server itself, for tests that look behind the gateway (its /slots).</summary>
    public HttpClient Backend { get; private set; } = null!;

    /// <summary>The key the AppHost generated for llama-server, which it requires on everything but <c>/health</c>.</summary>
    public string BackendKey { get; private set; } = "";

    /// <summary>The embedding llama-server itself, when this fixture runs one.</summary>
    public HttpClient? EmbeddingsBackend { get; private set; }

    /// <summary>llama-server's count of llama_decode calls (one per generated token of a lone sequence), from its /metrics.</summary>
    public async Task<long> BackendDecodeCountAsync()
    {
        var metrics = await Backend.GetStringAsync("/metrics");
        var line = metrics.Split('\n').Single(l => l.StartsWith("llamacpp:n_decode_total ", StringComparison.Ordinal));
        return (long)double.Parse(line["llamacpp:n_decode_total ".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Polls llama-server's /slots until no slot is processing, or the timeout passes; returns the last /slots seen.</summary>
    public async Task<(bool Idle, string Slots)> WaitForIdleSlotsAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string text;
        do
        {
            text = await Backend.GetStringAsync("/slots");
            using var slots = JsonDocument.Parse(text);
            if (slots.RootElement.EnumerateArray().All(slot => !slot.GetProperty("is_processing").GetBoolean()))
            {
                return (true, text);
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        return (false, text);
    }

    public ChatClient CreateChatClient(string model = ServedModel) =>
        new(model, new ApiKeyCredential("unused"), new OpenAIClientOptions
        {
            Endpoint = new Uri(GatewayBaseAddress, "v1"),
            // .NET drains a half-read response for up to 2 s to reuse its connection; a client that gives up on a
            // stream should look like one that hangs up, as a closed app or a killed process does.
            Transport = new HttpClientPipelineTransport(s_hangUpOnDispose),
        });

    public EmbeddingClient CreateEmbeddingClient(string model = EmbeddingModel) =>
        new(model, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(GatewayBaseAddress, "v1") });

    private static readonly HttpClient s_hangUpOnDispose = new(new SocketsHttpHandler { MaxResponseDrainSize = 0 });

    public async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(s_startTimeout);

        // Find or build llama-server first, exactly as the AppHost does: Aspire's testing host gives the AppHost's
        // entry point only a few minutes to reach Build(), and a first build from source takes longer.
        await LlamaServerLocator.LocateAsync(LlmSettings.From(new ConfigurationBuilder().AddEnvironmentVariables().Build()), cts.Token);

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.LlmApp_AppHost>(
            [$"--Llm:Model={TestPaths.TestModel}", "--Llm:GatewayPort=0", "--Llm:ManagementPort=0", .. AppHostArguments],
            cts.Token);
        // The app host logs every line of every resource and each failed health probe, with its stack trace, to the
        // console, which the run prints (it shows each skip's reason, so its verbosity is normal). Tests read resources'
        // output through ResourceLoggerService, which this leaves as it is.
        builder.Services.AddLogging(logging => logging.ClearProviders());

        var gateway = builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "gateway"));
        foreach (var (name, value) in GatewayEnvironment)
        {
            gateway.WithEnvironment(name, value);
        }

        _app = await builder.BuildAsync(cts.Token);
        await _app.StartAsync(cts.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("gateway", cts.Token);
        // Plain clients, not App.CreateHttpClient: Aspire's testing clients carry the standard resilience handler, which
        // retries 429, 5xx and timeouts, and would turn every refusal and failure these tests look for into a success.
        Gateway = new HttpClient { BaseAddress = _app.GetEndpoint("gateway", "http"), Timeout = s_clientTimeout };
        Management = new HttpClient { BaseAddress = _app.GetEndpoint("gateway", "management"), Timeout = s_clientTimeout };
        Backend = new HttpClient { BaseAddress = _app.GetEndpoint(BackendName, "http"), Timeout = s_clientTimeout };
        if (builder.Resources.Any(r => r.Name == "embeddings"))
        {
            EmbeddingsBackend = new HttpClient { BaseAddress = _app.GetEndpoint("embeddings", "http"), Timeout = s_clientTimeout };
        }

        // llama-server closes the connection after each streamed answer: a pooled one may be dead by the next request.
        Backend.DefaultRequestHeaders.ConnectionClose = true;

        // Each llama-server requires the key the AppHost generated for it; tests that call one directly send it.
        BackendKey = await BackendKeyAsync(builder, BackendName, cts.Token);
        Backend.DefaultRequestHeaders.Authorization = new("Bearer", BackendKey);
        if (EmbeddingsBackend is not null)
        {
            EmbeddingsBackend.DefaultRequestHeaders.Authorization = new("Bearer", await BackendKeyAsync(builder, "embeddings", cts.Token));
        }
    }

    private static async Task<string> BackendKeyAsync(IDistributedApplicationTestingBuilder builder, string backend, CancellationToken cancellationToken) =>
        await builder.Resources.Single(r => r.Name == backend).BackendKey()!.GetValueAsync(cancellationToken)
        ?? throw new InvalidOperationException($"{backend} has no key.");

    public virtual async Task DisposeAsync()
    {
        Gateway?.Dispose();
        Management?.Dispose();
        Backend?.Dispose();
        EmbeddingsBackend?.Dispose();
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
