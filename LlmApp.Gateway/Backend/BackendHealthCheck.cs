using Microsoft.Extensions.Diagnostics.HealthChecks;
using Polly.CircuitBreaker;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Readiness reflects the backends as the <see cref="BackendMonitor"/> last saw them: ready while at least one
/// answers its <c>/health</c> and takes requests. A probe of the gateway changes nothing.
/// </summary>
internal sealed class BackendHealthCheck(BackendPool pool) : IHealthCheck
{
    public const string Name = "backend";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // Ready when every operation (chat, embeddings if served) has a backend serving it.
        var serving = pool.All.GroupBy(b => b.Operation)
            .All(operation => operation.Any(b => b.IsHealthy && b.CircuitState.CircuitState is not (CircuitState.Open or CircuitState.Isolated)));
        var description = string.Join("; ", pool.All.Select(b => $"{b.Name}: {(b.IsHealthy ? "answering /health" : "not answering /health")}, circuit {b.CircuitState.CircuitState}"));
        return Task.FromResult(serving ? HealthCheckResult.Healthy(description) : HealthCheckResult.Unhealthy(description));
    }
}
