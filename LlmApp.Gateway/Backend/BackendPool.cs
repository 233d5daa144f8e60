using System.Diagnostics.Metrics;
using LlmApp.Gateway.Configuration;
using LlmApp.Gateway.Observability;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Registry;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// The backends the gateway serves from: the chat model's (the <c>Backend</c> section: one, or the replicas of
/// <c>Backend:Backends</c>) and the embedding server's, when there is one. Each one's circuit is on <c>/metrics</c> as
/// <c>llmapp.backend.circuit.state</c>: one series per state, 1 for the one it is in.
/// </summary>
public sealed class BackendPool : IDisposable
{
    private static readonly (CircuitState State, string Name)[] s_states =
        [(CircuitState.Closed, "closed"), (CircuitState.Open, "open"), (CircuitState.HalfOpen, "half_open"), (CircuitState.Isolated, "isolated")];

    private readonly Dictionary<string, ModelBackend> _byName;

    public BackendPool(IReadOnlyList<ModelBackend> backends, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(backends);
        All = backends;
        _byName = backends.ToDictionary(b => b.Name, StringComparer.Ordinal);
        meterFactory?.Create(GatewayMetrics.MeterName).CreateObservableGauge("llmapp.backend.circuit.state", CircuitStates, "{state}",
            "Each backend's circuit breaker, by llmapp.backend and llmapp.circuit.state: 1 for the state it is in (closed, open, half_open, isolated), 0 for the others.");
    }

    public IReadOnlyList<ModelBackend> All { get; }

    public ModelBackend this[string name] => _byName.TryGetValue(name, out var backend)
        ? backend
        : throw new InvalidOperationException($"There is no backend named '{name}'.");

    /// <summary>The backends the settings name, with what each serves and its capacity when the settings fix it.</summary>
    internal static IEnumerable<(BackendOptions Options, string Operation, int? Capacity)> Describe(IServiceProvider services)
    {
        foreach (var (options, capacity) in services.GetRequiredService<IOptions<BackendOptions>>().Value.Resolve())
        {
            yield return (options, Operations.Chat, capacity);
        }

        if (services.GetRequiredService<IOptions<EmbeddingsOptions>>().Value is { IsEnabled: true } embeddings)
        {
            // Probed, admitted and broken-circuited like the chat backend, for embeddings only.
            yield return (embeddings.ToBackendOptions(), Operations.Embeddings, null);
        }
    }

    /// <summary>The pool of the settings' backends, each with the resilience pipeline registered under its name.</summary>
    internal static BackendPool Create(IServiceProvider services)
    {
        var resilience = services.GetRequiredService<IOptions<ResilienceOptions>>().Value;
        var pipelines = services.GetRequiredService<ResiliencePipelineProvider<string>>();
        var circuits = services.GetRequiredService<BackendCircuits>();
        return new BackendPool(
            [
                .. Describe(services).Select(b => new ModelBackend(b.Options.Name, b.Operation, b.Options, b.Capacity ?? resilience.MaxConcurrentRequests,
                    pipelines.GetPipeline<HttpResponseMessage>(b.Options.Name), circuits[b.Options.Name])),
            ],
            services.GetRequiredService<IMeterFactory>());
    }

    public void Dispose()
    {
        foreach (var backend in All)
        {
            backend.Dispose();
        }
    }

    private IEnumerable<Measurement<int>> CircuitStates()
    {
        foreach (var backend in All)
        {
            var current = backend.CircuitState.CircuitState;
            foreach (var (state, name) in s_states)
            {
                yield return new Measurement<int>(current == state ? 1 : 0, new("llmapp.backend", backend.Name), new("llmapp.circuit.state", name));
            }
        }
    }
}
