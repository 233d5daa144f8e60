using LlmApp.Gateway.Backend;

namespace LlmApp.Gateway.Admission;

/// <summary>A slot on <see cref="Backend"/>, held until disposed.</summary>
public sealed class AdmissionLease : IDisposable
{
    private readonly AdmissionControl _owner;
    private int _released;

    internal AdmissionLease(AdmissionControl owner, ModelBackend backend, AdmissionRequest request, long admittedAt, TimeSpan predictedFirstToken,
        long expectedEnd, long firstTokenExpected)
    {
        FirstTokenExpected = firstTokenExpected;
        _owner = owner;
        Backend = backend;
        Request = request;
        AdmittedAt = admittedAt;
        PredictedFirstToken = predictedFirstToken;
        ExpectedEnd = expectedEnd;
    }

    /// <summary>The backend the slot is on.</summary>
    public ModelBackend Backend { get; }

    /// <summary>What was asked of admission: the slot's operation, partition (API key), deadline and affinity.</summary>
    public AdmissionRequest Request { get; }

    /// <summary>Whose slot it is: the partition (API key) it counts against while held.</summary>
    public string Partition => Request.Partition;

    /// <summary>When the request was admitted, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long AdmittedAt { get; }

    /// <summary>Its time to first token as predicted when it asked for a slot, counted from then: its wait, then its prompt.</summary>
    public TimeSpan PredictedFirstToken { get; }

    /// <summary>When it is expected to give its slot back, as a <see cref="TimeProvider"/> timestamp: for the waits of those after it.</summary>
    internal long ExpectedEnd { get; }

    /// <summary>When its prompt is expected to have been read, as a <see cref="TimeProvider"/> timestamp: a prompt arriving before then waits for it.</summary>
    internal long FirstTokenExpected { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _owner.Release(this);
        }
    }
}
