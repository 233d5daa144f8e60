namespace LlmApp.Gateway.Admission;

/// <summary>
/// What a request asks of admission: a slot on a backend that serves <paramref name="Operation"/>, waiting in the
/// queue of <paramref name="Partition"/> (the caller's API key name) no longer than <paramref name="MaxWait"/>, and
/// running beside at most <paramref name="PartitionLimit"/> - 1 others of its partition (the key's <c>maxConcurrent</c>;
/// null: no limit of its own). <paramref name="Affinity"/> keeps a conversation on one replica (see <see cref="PrefixAffinity"/>).
/// </summary>
public sealed record AdmissionRequest(string Operation, string Partition, TimeSpan MaxWait, int? PartitionLimit = null, ulong? Affinity = null)
{
    /// <summary>A call moving off a replica that failed it (failover): admitted once already, it is not refused for a full queue.</summary>
    public bool Moving { get; init; }

    /// <summary>A later turn of a conversation (it has an assistant message): its earlier turns are in some replica's cache.</summary>
    public bool FollowUp { get; init; }
}

public enum AdmissionOutcome
{
    Admitted,
    QueueFull,
    /// <summary>The queue was full and another key held fewer than its share of it: this one's place was given to it.</summary>
    QueueShare,
    QueueTimeout,
    /// <summary>The request's API key was revoked (removed, disabled or changed) while it waited.</summary>
    KeyRevoked,
    ShuttingDown,
    ClientLeft,
}

/// <summary>How admission answered: a lease on a backend slot, or why not.</summary>
public readonly record struct AdmissionResult(AdmissionOutcome Outcome, AdmissionLease? Lease)
{
    public bool IsAdmitted => Outcome == AdmissionOutcome.Admitted;
}
