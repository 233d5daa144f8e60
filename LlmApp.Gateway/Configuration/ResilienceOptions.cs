using System.ComponentModel.DataAnnotations;

namespace LlmApp.Gateway.Configuration;

/// <summary>
/// Timeouts, retries, circuit breaking, admission and draining; bound from the <c>Resilience</c> section and
/// validated at start-up. The defaults suit a CPU box where a long prompt takes tens of seconds to read.
/// </summary>
public sealed class ResilienceOptions
{
    public const string SectionName = "Resilience";

    /// <summary>Longest wait for a TCP connection to the backend.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest wait from sending a request to its first token (the whole prompt is read in this time).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan FirstTokenTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Longest silence between two tokens once generation has started.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Deadline of a request before counting its tokens; it also bounds the time a request may wait in the queue.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan TotalTimeoutBase { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Added to the deadline for each requested output token (max_tokens), so long answers get longer.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan TotalTimeoutPerToken { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Output tokens assumed for the deadline when a request does not set max_tokens.</summary>
    [Range(1, 1_000_000)]
    public int DefaultMaxTokens { get; set; } = 1024;

    /// <summary>Retries of a request that failed before any byte reached the client (refused, reset, 503 loading).</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>First retry delay; later ones back off exponentially, with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long the circuit stays open (answering 503 at once) once the backend is found down.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00")]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Requests admitted at once. 0: learn it from the backend (llama-server's slots, from /props); that is the
    /// right value, since a backend with all slots busy only queues the rest where nobody can see them.
    /// </summary>
    [Range(0, 1024)]
    public int MaxConcurrentRequests { get; set; }

    /// <summary>
    /// Requests that may wait for a slot; one more is refused with 429 at once, unless its key holds less than its share
    /// of the queue, when the newest waiter of the key holding the most places gives its place up (429) instead.
    /// </summary>
    [Range(0, 10_000)]
    public int QueueLimit { get; set; } = 8;

    /// <summary>
    /// Longest a request waits in the queue for a slot, whatever is left of its deadline: past it, 429 with
    /// <c>Retry-After</c>. A client that waited longer would rather have known (a voice turn, a retry elsewhere).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MaxQueueWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether an answer cut by its backend after output began (a disconnect, an error event, the idle timeout, the
    /// replica taken out of service) is continued on a healthy replica: the messages plus the text already sent as a
    /// partial assistant message, so the client gets one whole answer. Null (the default): on where more than one
    /// replica serves chat; the AppHost turns it on because it restarts a crashed backend. Answers a continuation cannot
    /// pick up exactly (a tool call, JSON or schema output, logprobs) are never continued.
    /// </summary>
    public bool? ResumeCutAnswers { get; set; }

    /// <summary>How many times one answer may be continued after a cut; the next cut ends it with the error event.</summary>
    [Range(0, 10)]
    public int MaxResumes { get; set; } = 2;

    /// <summary>After SIGTERM, how long in-flight requests may run before they are ended with an error.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>No deadline is longer: a request asking for two billion tokens still gets a deadline timers can hold.</summary>
    public static readonly TimeSpan MaxTotalTimeout = TimeSpan.FromDays(1);

    /// <summary>The deadline of a request that asks for <paramref name="maxTokens"/> output tokens.</summary>
    public TimeSpan TotalTimeout(int? maxTokens)
    {
        var seconds = TotalTimeoutBase.TotalSeconds + (TotalTimeoutPerToken.TotalSeconds * (maxTokens ?? DefaultMaxTokens));
        return TimeSpan.FromSeconds(Math.Min(seconds, MaxTotalTimeout.TotalSeconds));
    }
}
