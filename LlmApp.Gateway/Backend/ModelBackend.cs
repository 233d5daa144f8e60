using Polly;
using Polly.CircuitBreaker;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// One inference server as the gateway sees it while it runs: where it is, how many requests it decodes at once
/// (its slots), whether its <c>/health</c> answers, and its own circuit breaker and retry pipeline. Admission
/// reads the slots; the <see cref="BackendMonitor"/> is the one that changes them, the health and the breaker.
/// </summary>
public sealed class ModelBackend
{
    private volatile int _slots;
    private volatile bool _healthy;

    public ModelBackend(string name, string operation, BackendOptions options, int configuredSlots, ResiliencePipeline<HttpResponseMessage> sendPipeline,
        CircuitBreakerStateProvider circuitState, CircuitBreakerManualControl circuitControl)
    {
        Name = name;
        Operation = operation;
        Options = options;
        ConfiguredSlots = configuredSlots;
        _slots = configuredSlots > 0 ? configuredSlots : 1;
        SendPipeline = sendPipeline;
        CircuitState = circuitState;
        CircuitControl = circuitControl;
        ChatCompletionsUri = new Uri(options.Endpoint!, "v1/chat/completions");
    }

    public string Name { get; }

    /// <summary>What it serves (<see cref="Operations.Chat"/>); admission only gives it requests of that kind.</summary>
    public string Operation { get; }

    public BackendOptions Options { get; }

    public Uri ChatCompletionsUri { get; }

    /// <summary><c>Resilience:MaxConcurrentRequests</c>; 0 when the slots are to be learned from the backend.</summary>
    public int ConfiguredSlots { get; }

    /// <summary>Requests the backend decodes at once: configured, learned from llama-server's <c>/props</c>, or 1 until then.</summary>
    public int Slots => _slots;

    /// <summary>Whether it answers <c>/health</c>: since its last 200, no run of failed probes long enough to take it out of service.</summary>
    public bool IsHealthy => _healthy;

    /// <summary>Retries and the circuit breaker around a call, up to the response headers (never after a byte of the body).</summary>
    public ResiliencePipeline<HttpResponseMessage> SendPipeline { get; }

    public CircuitBreakerStateProvider CircuitState { get; }

    internal CircuitBreakerManualControl CircuitControl { get; }

    /// <summary>Raised when <see cref="Slots"/> changes, so that admission can let waiting requests in.</summary>
    public event Action? CapacityChanged;

    internal void SetSlots(int slots)
    {
        if (slots > 0 && slots != _slots)
        {
            _slots = slots;
            CapacityChanged?.Invoke();
        }
    }

    internal void SetHealthy(bool healthy) => _healthy = healthy;
}
