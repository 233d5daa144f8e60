using Polly.CircuitBreaker;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// One backend's circuit breaker as the rest of the gateway sees it: its state (readiness, <c>/metrics</c>) and the
/// manual control the <see cref="BackendMonitor"/> isolates and closes it with. The breaker itself is a strategy of the
/// backend's resilience pipeline, which is built with these.
/// </summary>
public sealed class BackendCircuit
{
    public CircuitBreakerStateProvider State { get; } = new();

    public CircuitBreakerManualControl Control { get; } = new();
}
