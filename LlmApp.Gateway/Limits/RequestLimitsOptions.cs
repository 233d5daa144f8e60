using System.ComponentModel.DataAnnotations;

namespace LlmApp.Gateway.Limits;

/// <summary>
/// Caps on one request, bound from the <c>Limits</c> section and checked before a request takes a slot: an endpoint
/// that faces a network must bound what one caller can make it read and generate (OWASP LLM10, unbounded consumption).
/// </summary>
public sealed class RequestLimitsOptions
{
    public const string SectionName = "Limits";

    /// <summary>Largest request body, in bytes; a larger one is refused with 413 before it is read.</summary>
    [Range(1024, 1L << 30)]
    public long MaxRequestBodyBytes { get; set; } = 4 << 20;

    /// <summary>Most messages in one chat request.</summary>
    [Range(1, 100_000)]
    public int MaxMessages { get; set; } = 1024;

    /// <summary>Most characters of message text (and tool-call arguments) in one chat request.</summary>
    [Range(1, 100_000_000)]
    public int MaxPromptCharacters { get; set; } = 1_000_000;

    /// <summary>Ceiling on <c>max_tokens</c> / <c>max_completion_tokens</c>; 0: only the model's context bounds it.</summary>
    [Range(0, 10_000_000)]
    public int MaxOutputTokens { get; set; }

    /// <summary>
    /// Long prompts whose tokens are counted on the backend at once (<c>/apply-template</c> and <c>/tokenize</c>, for the
    /// context check): the rest go uncounted, and the backend checks their length itself, so that a flood of long
    /// prompts cannot take llama-server's HTTP threads from generation and its health probe.
    /// </summary>
    [Range(1, 64)]
    public int MaxConcurrentTokenCounts { get; set; } = 2;

    /// <summary>
    /// Slowest a request body may arrive, in bytes per second after <see cref="BodyGracePeriod"/>; a client that trickles
    /// its body (slowloris) is cut off. Kestrel's own default, stated so it is a choice.
    /// </summary>
    [Range(1, 1 << 30)]
    public double MinBodyBytesPerSecond { get; set; } = 240;

    /// <summary>
    /// Connections open at once, idle or not; past it, Kestrel closes new ones at once. Each stream holds one for its
    /// length, so this bounds what idle connections can take, not the slots' use.
    /// </summary>
    [Range(16, 1_000_000)]
    public long MaxConnections { get; set; } = 1000;

    /// <summary>How long a connection may sit idle between requests (and before its first) before it is closed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a request's headers may take to arrive: a client that sends them a byte at a time is cut off.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a body may arrive slower than <see cref="MinBodyBytesPerSecond"/> before it is cut off.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan BodyGracePeriod { get; set; } = TimeSpan.FromSeconds(5);
}
