using LlmApp.Gateway.Backend;

namespace LlmApp.Gateway.Admission;

/// <summary>A slot on <see cref="Backend"/>, held until disposed.</summary>
public sealed class AdmissionLease : IDisposable
{
    private readonly AdmissionControl _owner;
    private int _released;

    internal AdmissionLease(AdmissionControl owner, ModelBackend backend, AdmissionRequest request, long admittedAt)
    {
        _owner = owner;
        Backend = backend;
        Request = request;
        AdmittedAt = admittedAt;
    }

    /// <summary>The backend the slot is on.</summary>
    public ModelBackend Backend { get; }

    /// <summary>What was asked of admission: the slot's operation, partition (API key), deadline and affinity.</summary>
    public AdmissionRequest Request { get; }

    /// <summary>Whose slot it is: the partition (API key) it counts against while held.</summary>
    public string Partition => Request.Partition;

    /// <summary>When the request was admitted, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long AdmittedAt { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _owner.Release(this);
        }
    }
}
