namespace LlmApp.Gateway.Backend;

/// <summary>The backends the gateway serves from; one today (the <c>Backend</c> section), more once replicas come.</summary>
public sealed class BackendPool(IReadOnlyList<ModelBackend> backends) : IDisposable
{
    private readonly Dictionary<string, ModelBackend> _byName = backends.ToDictionary(b => b.Name, StringComparer.Ordinal);

    public IReadOnlyList<ModelBackend> All { get; } = backends;

    public ModelBackend this[string name] => _byName.TryGetValue(name, out var backend)
        ? backend
        : throw new InvalidOperationException($"There is no backend named '{name}'.");

    public void Dispose()
    {
        foreach (var backend in All)
        {
            backend.Dispose();
        }
    }
}
