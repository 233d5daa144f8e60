using LlmApp.Gateway.Backend;

namespace LlmApp.Gateway.Admission;

/// <summary>A slot on <see cref="Backend"/>, held until disposed.</summary>
public sealed class AdmissionLease : IDisposable
{
    private readonly AdmissionControl _owner;
    private int _released;

    internal AdmissionLease(AdmissionControl owner, ModelBackend backend)
    {
        _owner = owner;
        Backend = backend;
    }

    public ModelBackend Backend { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _owner.Release(Backend);
        }
    }
}
