using System.Collections.Concurrent;

namespace LlmApp.Gateway.Backend;

/// <summary>Each backend's <see cref="BackendCircuit"/> by name: what its registered pipeline and its <see cref="ModelBackend"/> share.</summary>
internal sealed class BackendCircuits
{
    private readonly ConcurrentDictionary<string, BackendCircuit> _byName = new(StringComparer.Ordinal);

    public BackendCircuit this[string name] => _byName.GetOrAdd(name, static _ => new BackendCircuit());
}
