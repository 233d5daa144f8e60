using Polly;
using Polly.CircuitBreaker;
using LlmApp.Gateway.Pipeline;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// One inference server as the gateway sees it while it runs: where it is, how many requests it decodes at once
/// (its slots), whether its <c>/health</c> answers, and its own circuit breaker and retry pipeline. Admission
/// reads the slots, which the <see cref="BackendMonitor"/> learns; the monitor's probes set the health, close the
/// breaker and isolate it, and admission marks a backend unhealthy when a call to it failed before any output and
/// moved to another replica (until its next good probe).
/// </summary>
public sealed class ModelBackend : IDisposable
{
    private volatile int _slots;
    private volatile bool _healthy;
    private volatile CancellationTokenSource _inService = new();

    public ModelBackend(string name, string operation, BackendOptions options, int configuredSlots, ResiliencePipeline<HttpResponseMessage> sendPipeline,
        BackendCircuit circuit)
    {
        ArgumentNullException.ThrowIfNull(circuit);
        Name = name;
        Operation = operation;
        Options = options;
        ConfiguredSlots = configuredSlots;
        _slots = configuredSlots > 0 ? configuredSlots : 1;
        SendPipeline = sendPipeline;
        CircuitState = circuit.State;
        CircuitControl = circuit.Control;
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

    /// <summary>
    /// Retries and the circuit breaker around a call, up to the response headers (never after a byte of the body):
    /// the pipeline registered under the backend's name (<see cref="BackendResilience"/>).
    /// </summary>
    public ResiliencePipeline<HttpResponseMessage> SendPipeline { get; }

    public CircuitBreakerStateProvider CircuitState { get; }

    /// <summary>How fast it is, learned from the calls it served; admission predicts times to first token from it.</summary>
    public BackendSpeed Speed { get; } = new();

    /// <summary>
    /// Cancelled when the backend is taken out of service (it stopped answering its health probes): the calls it is
    /// still serving end at once instead of waiting for a hung server until their deadline.
    /// </summary>
    public CancellationToken InService => _inService.Token;

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

    public void Dispose() => _inService.Dispose();

    internal void SetHealthy(bool healthy)
    {
        if (healthy && _inService.IsCancellationRequested)
        {
            // Back in service. The cancelled source is not disposed: calls that ended with it may still hold its token.
            _inService = new CancellationTokenSource();
        }

        _healthy = healthy;
    }

    /// <summary>Takes the backend out of service: ends the calls it is serving.</summary>
    internal void TakeOutOfService()
    {
        _healthy = false;
        _inService.Cancel();
    }
}
