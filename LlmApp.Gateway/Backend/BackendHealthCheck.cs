using LlmApp.Gateway.Resilience;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Readiness reflects the backend: llama-server and vLLM both answer <c>GET /health</c> with 200 once the
/// model is loaded (llama-server answers 503 while it loads).
/// </summary>
internal sealed class BackendHealthCheck(IHttpClientFactory httpClientFactory, BackendCircuit circuit) : IHealthCheck
{
    public const string Name = "backend";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var client = httpClientFactory.CreateClient(BackendExtensions.HealthClientName);
            using var response = await client.GetAsync("health", cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return HealthCheckResult.Unhealthy($"The backend answered /health with {(int)response.StatusCode}.");
            }

            // Ready means requests go through: a circuit opened while the backend was down closes now.
            await circuit.OnBackendHealthyAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return HealthCheckResult.Unhealthy($"The backend is unreachable: {ex.Message}");
        }
    }
}
