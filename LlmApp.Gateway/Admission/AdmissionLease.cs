using LlmApp.Gateway.Backend;

namespace LlmApp.Gateway.Admission;

/// <summary>A slot on <see cref="Backend"/>, held until disposed.</summary>
public sealed class AdmissionLease : IDisposable
{
    private readonly AdmissionControl _owner;
    private int _released;

    internal AdmissionLease(AdmissionControl owner, ModelBackend backend, string partition, ulong? affinity = null)
    {
        _owner = owner;
        Backend = backend;
        Partition = partition;
        Affinity = affinity;
    }

    /// <summary>The backend the slot is on; failover may move it before the first byte (<see cref="TryMove"/>).</summary>
    public ModelBackend Backend { get; private set; }

    /// <summary>The request's <see cref="PrefixAffinity"/>, if routing uses one.</summary>
    public ulong? Affinity { get; }

    /// <summary>Moves the slot to another healthy backend with room, if there is one (see <see cref="AdmissionControl.TryMove"/>).</summary>
    public bool TryMove() => _owner.TryMove(this);

    internal void MoveTo(ModelBackend backend) => Backend = backend;

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
