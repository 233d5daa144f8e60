namespace LlmApp.Gateway.Resilience;

/// <summary>What ended a generation early.</summary>
public enum GenerationTimeout
{
    None,
    FirstToken,
    Idle,
    Total,
    Shutdown,
}

/// <summary>
/// Streaming-aware deadlines for one generation: the time to the first token, the silence between tokens, and
/// a total deadline, each cancelling the backend request through one token. Polly's timeout strategy bounds a
/// single call; a stream needs a timer that is re-armed on every token (as YARP's activity timeout is), which
/// <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/> gives without allocating per token.
/// </summary>
public sealed class GenerationWatchdog : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly DateTimeOffset _deadline;
    private readonly TimeSpan _idleTimeout;
    private readonly TimeProvider _time;
    private readonly CancellationTokenRegistration _shutdownRegistration;
    private GenerationTimeout _phase = GenerationTimeout.FirstToken;

    // The deadline the armed timer stands for: the first-token, idle or total one, whichever comes first.
    private GenerationTimeout _pending;

    public GenerationWatchdog(ResilienceOptions options, int? maxTokens, DateTimeOffset startedAt, TimeProvider time,
        CancellationToken requestAborted, CancellationToken shutdown)
    {
        _time = time;
        _idleTimeout = options.IdleTimeout;
        _deadline = startedAt + options.TotalTimeout(maxTokens);
        _cts = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        _shutdownRegistration = shutdown.UnsafeRegister(static state => ((GenerationWatchdog)state!).Fire(GenerationTimeout.Shutdown), this);
        Arm(options.FirstTokenTimeout);
    }

    /// <summary>Cancelled when any deadline passes, the client leaves, or the drain window after SIGTERM ends.</summary>
    public CancellationToken Token => _cts.Token;

    /// <summary>Which deadline fired; <see cref="GenerationTimeout.None"/> if none did.</summary>
    public GenerationTimeout Fired { get; private set; }

    /// <summary>Time left before the total deadline.</summary>
    public TimeSpan Remaining => _deadline - _time.GetUtcNow();

    /// <summary>Called for every update from the backend: the first ends the first-token wait, each re-arms the idle timer.</summary>
    public void OnToken()
    {
        _phase = GenerationTimeout.Idle;
        Arm(_idleTimeout);
    }

    public void Dispose()
    {
        _shutdownRegistration.Dispose();
        _cts.Dispose();
    }

    private void Arm(TimeSpan phaseTimeout)
    {
        var remaining = Remaining;
        var (delay, reason) = phaseTimeout < remaining ? (phaseTimeout, _phase) : (remaining, GenerationTimeout.Total);
        _pending = reason;
        if (delay <= TimeSpan.Zero)
        {
            Fire(reason);
            return;
        }

        _cts.CancelAfter(delay);
    }

    private void Fire(GenerationTimeout reason)
    {
        if (Fired == GenerationTimeout.None && !_cts.IsCancellationRequested)
        {
            Fired = reason;
            _cts.Cancel();
        }
    }

    /// <summary>Records which timer fired, once the token is cancelled by <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>.</summary>
    public GenerationTimeout Reason(CancellationToken requestAborted) =>
        Fired != GenerationTimeout.None ? Fired
        : requestAborted.IsCancellationRequested ? GenerationTimeout.None
        : _cts.IsCancellationRequested ? _pending
        : GenerationTimeout.None;
}
