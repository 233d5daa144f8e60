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

    /// <summary>
    /// The time to first token left to it (its objective less the time since it arrived): admission refuses it at once
    /// when it predicts more, and sends it away from the queue when its wait can no longer end in time. Null: none.
    /// </summary>
    public TimeSpan? Objective { get; init; }

    /// <summary>Characters of text in its prompt, from which admission predicts the tokens a backend reads before its first token.</summary>
    public long PromptChars { get; init; }

    /// <summary>Of <see cref="PromptChars"/>, those of the turns up to its last assistant message: cached on the replica that served them.</summary>
    public long CachedChars { get; init; }

    /// <summary>Its <c>max_tokens</c>: how long it may hold a slot, for the waits of those after it. Null: a typical answer's length.</summary>
    public int? MaxOutputTokens { get; init; }
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
    /// <summary>Its predicted time to first token is over its objective, or its wait in the queue outlasted what the objective left.</summary>
    TtftObjective,
    /// <summary>It has an objective and no backend that serves it is up: it could not be met.</summary>
    NoBackend,
}

/// <summary>
/// How admission answered: a lease on a backend slot, or why not, with when to try again (<paramref name="RetryAfter"/>:
/// when an objective could be met, by the prediction) and what held slots back (<paramref name="Detail"/>: the decode-rate floor).
/// </summary>
public readonly record struct AdmissionResult(AdmissionOutcome Outcome, AdmissionLease? Lease, TimeSpan? RetryAfter = null, string? Detail = null)
{
    public bool IsAdmitted => Outcome == AdmissionOutcome.Admitted;
}
