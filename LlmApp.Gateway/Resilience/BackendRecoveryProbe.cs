using LlmApp.Gateway.Backend;

namespace LlmApp.Gateway.Resilience;

/// <summary>While the circuit is open, asks the backend's <c>/health</c> every second and closes the circuit once it answers.</summary>
internal sealed class BackendRecoveryProbe(BackendCircuit circuit, IHttpClientFactory httpClientFactory) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!circuit.IsOpen)
            {
                continue;
            }

            try
            {
                using var client = httpClientFactory.CreateClient(BackendExtensions.HealthClientName);
                using var response = await client.GetAsync("health", stoppingToken);
                if (response.IsSuccessStatusCode)
                {
                    await circuit.OnBackendHealthyAsync(stoppingToken);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
            {
                // Still down: the circuit stays open.
            }
        }
    }
}
