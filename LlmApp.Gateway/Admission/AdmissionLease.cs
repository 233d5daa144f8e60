using LlmApp.Gateway.Backend;

namespace LlmApp.Gateway.Admission;

/// <summary>A slot on <see cref="Backend"/>, held until disposed.</summary>
public sealed class AdmissionLease : IDisposable
{
    private readonly AdmissionControl _owner;
    private int _released;

    internal AdmissionLease(AdmissionControl owner, ModelBackend backend, string partition)
    {
        _owner = owner;
        Backend = backend;
        Partition = partition;
    }

    public ModelBackend Backend { get; }

    /// <summary>Whose slot it is: the partition (API key) it counts against while held.</summary>
    public string Partition { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _owner.Release(this);
        }
    }
}
