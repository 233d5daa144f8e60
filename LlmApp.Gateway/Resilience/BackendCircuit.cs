using Polly.CircuitBreaker;

namespace LlmApp.Gateway.Resilience;

/// <summary>
/// The backend's circuit breaker, seen from outside the HTTP pipeline: its state, and a way to close it as soon
/// as the backend's <c>/health</c> answers again, instead of waiting for a request to probe it after the break.
/// </summary>
public sealed class BackendCircuit
{
    public CircuitBreakerManualControl Control { get; } = new();

    public CircuitBreakerStateProvider State { get; } = new();

    public bool IsOpen => State.CircuitState is CircuitState.Open or CircuitState.HalfOpen;

    /// <summary>Closes an open circuit; called when the backend is seen healthy.</summary>
    public async Task OnBackendHealthyAsync(CancellationToken cancellationToken)
    {
        if (IsOpen)
        {
            await Control.CloseAsync(cancellationToken);
        }
    }
}
