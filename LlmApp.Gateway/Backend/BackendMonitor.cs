using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Polly.CircuitBreaker;
using LlmApp.Gateway.Observability;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Watches each backend, and is the one that changes what the gateway believes about it: every second it asks
/// <c>/health</c>; a llama-server's slots come from its <c>/props</c> once it answers; a backend that answers again
/// closes its circuit at once (instead of after the break), and one that has stopped answering (down, hung,
/// stopped) is isolated, so that requests get 503 at once instead of waiting out their first-token timeout, and the
/// calls it is still serving end.
/// </summary>
internal sealed partial class BackendMonitor : BackgroundService
{
    private readonly BackendPool _pool;
    private readonly IHttpClientFactory _httpClientFactory;
    private readonly ILogger<BackendMonitor> _logger;

    public BackendMonitor(BackendPool pool, IHttpClientFactory httpClientFactory, IMeterFactory meterFactory, ILogger<BackendMonitor> logger)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _pool = pool;
        _httpClientFactory = httpClientFactory;
        _logger = logger;
        meterFactory.Create(GatewayMetrics.MeterName).CreateObservableGauge("llmapp.backend.up",
            () => pool.All.Select(b => new Measurement<int>(b.IsHealthy ? 1 : 0, new KeyValuePair<string, object?>("llmapp.backend", b.Name))), "{backend}",
            "1 while the backend answers its health probes and takes requests, 0 while it does not, by llmapp.backend.");
    }

    public const string ProbeClientName = "backend-probe";

    /// <summary>How long a probe may take; llama-server answers <c>/health</c> on its HTTP threads, busy slots or not.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan s_probeInterval = TimeSpan.FromSeconds(1);

    // A single slow answer is not an outage; three in a row (3 to 9 s) is.
    private const int FailuresBeforeIsolating = 3;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_pool.All.Select(backend => WatchAsync(backend, stoppingToken)));

    private async Task WatchAsync(ModelBackend backend, CancellationToken stoppingToken)
    {
        using var client = _httpClientFactory.CreateClient(ProbeClientName);
        var learnSlots = backend.ConfiguredSlots == 0 && backend.Options.Kind == BackendKind.LlamaCpp;
        if (backend.ConfiguredSlots == 0 && !learnSlots)
        {
            LogNoSlots(_logger, backend.Name);
        }

        var failures = 0;
        using var timer = new PeriodicTimer(s_probeInterval);
        do
        {
            var problem = await ProbeAsync(client, backend, "health", stoppingToken);
            if (problem is null)
            {
                failures = 0;
                backend.SetHealthy(true);
                if (learnSlots)
                {
                    learnSlots = !await TryLearnSlotsAsync(client, backend, stoppingToken);
                }

                if (backend.CircuitState.CircuitState is not CircuitState.Closed)
                {
                    await backend.CircuitControl.CloseAsync(stoppingToken);
                    LogRecovered(_logger, backend.Name);
                }
            }
            else if (++failures == FailuresBeforeIsolating)
            {
                await backend.CircuitControl.IsolateAsync(stoppingToken);
                backend.TakeOutOfService();
                LogIsolated(_logger, backend.Name, failures, problem);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Null when <paramref name="path"/> answers 200; otherwise what went wrong.</summary>
    private static async Task<string?> ProbeAsync(HttpClient client, ModelBackend backend, string path, CancellationToken stoppingToken)
    {
        try
        {
            using var response = await client.SendAsync(Request(backend, path), stoppingToken);
            return response.IsSuccessStatusCode ? null : $"/{path} answered {(int)response.StatusCode}";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
        {
            return ex is TaskCanceledException ? $"/{path} did not answer within {ProbeTimeout.TotalSeconds:0} s" : $"/{path}: {ex.Message}";
        }
    }

    /// <summary>Reads llama-server's <c>total_slots</c>; true once there is nothing more to learn.</summary>
    private async Task<bool> TryLearnSlotsAsync(HttpClient client, ModelBackend backend, CancellationToken stoppingToken)
    {
        try
        {
            using var response = await client.SendAsync(Request(backend, "props"), stoppingToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                // Not llama-server after all: keep the fallback, and say how to set it.
                LogNoSlots(_logger, backend.Name);
                return true;
            }

            using var props = JsonDocument.Parse(await response.EnsureSuccessStatusCode().Content.ReadAsStreamAsync(stoppingToken));
            if (props.RootElement.TryGetProperty("total_slots", out var slots) && slots.TryGetInt32(out var total) && total > 0)
            {
                backend.SetSlots(total);
                LogSlots(_logger, backend.Name, total);
            }
            else
            {
                LogNoSlots(_logger, backend.Name);
            }

            return true;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
        {
            // Try again on the next healthy probe.
            return false;
        }
    }

    private static HttpRequestMessage Request(ModelBackend backend, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(backend.Options.Endpoint!, path));
        // A probe a second: kept out of the traces, which show requests.
        request.Options.Set(Extensions.Untraced, true);
        if (backend.Options.ApiKey is { Length: > 0 } key)
        {
            request.Headers.Authorization = new("Bearer", key);
        }

        return request;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Backend {Backend} runs {Slots} requests at once; the gateway admits as many.")]
    private static partial void LogSlots(ILogger logger, string backend, int slots);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend} does not say how many requests it runs at once; admitting 1 at a time. Set Resilience:MaxConcurrentRequests.")]
    private static partial void LogNoSlots(ILogger logger, string backend);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend} failed {Failures} health probes in a row ({Problem}); its calls are ended and requests get 503 until it answers again.")]
    private static partial void LogIsolated(ILogger logger, string backend, int failures, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backend {Backend} answers its health probe again; requests go through.")]
    private static partial void LogRecovered(ILogger logger, string backend);
}
