using System.Text.Json;
using LlmApp.Gateway.Backend;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Resilience;

/// <summary>
/// How many requests the backend runs at once: <c>Resilience:MaxConcurrentRequests</c> if set, else learned from
/// llama-server's <c>GET /props</c> (<c>total_slots</c>) as soon as it answers, and 1 until then.
/// </summary>
public sealed partial class BackendCapacity(
    IOptions<ResilienceOptions> options, IHttpClientFactory httpClientFactory, ILogger<BackendCapacity> logger) : BackgroundService
{
    private volatile int _slots = options.Value.MaxConcurrentRequests > 0 ? options.Value.MaxConcurrentRequests : 1;

    public int Slots => _slots;

    public int QueueLimit => options.Value.QueueLimit;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.MaxConcurrentRequests > 0)
        {
            return;
        }

        using var client = httpClientFactory.CreateClient(BackendExtensions.HealthClientName);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                using var props = JsonDocument.Parse(await client.GetStringAsync("props", stoppingToken));
                if (props.RootElement.TryGetProperty("total_slots", out var slots) && slots.TryGetInt32(out var total) && total > 0)
                {
                    _slots = total;
                    LogCapacity(logger, total);
                    return;
                }

                LogNoSlots(logger);
                return;
            }
            catch (HttpRequestException ex) when (ex.StatusCode is System.Net.HttpStatusCode.NotFound)
            {
                // Not llama-server (vLLM has no /props): keep the fallback, and say how to set it.
                LogNoSlots(logger);
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The backend runs {Slots} requests at once; the gateway admits as many.")]
    private static partial void LogCapacity(ILogger logger, int slots);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The backend's /props has no total_slots; admitting 1 request at a time. Set Resilience:MaxConcurrentRequests.")]
    private static partial void LogNoSlots(ILogger logger);
}
