namespace LlmApp.Gateway.Resilience;

/// <summary>
/// Streaming-aware deadlines for one generation: the time to the first token, the silence between tokens, and a
/// total deadline counted from the request's arrival, all cancelling the backend call through one token. Polly's
/// timeout strategy bounds a single call; a stream needs a timer that is re-armed on every token (as YARP's activity
/// timeout is), which <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/> gives without allocating per token.
/// The source runs on the given <see cref="TimeProvider"/>, so tests can move time by hand.
/// </summary>
public sealed class GenerationWatchdog : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly TimeProvider _time;
    private readonly long _arrival;
    private readonly TimeSpan _total;
    private readonly TimeSpan _idleTimeout;
    private readonly CancellationToken _caller;
    private readonly CancellationTokenRegistration _callerRegistration;
    private readonly CancellationTokenRegistration _shutdownRegistration;
    private GenerationTimeout _phase = GenerationTimeout.FirstToken;

    // The deadline the armed timer stands for: the phase's own, or the total one when that comes first.
    private GenerationTimeout _armed;
    private volatile bool _shutdown;

    /// <summary>
    /// Starts the deadlines of a call that arrived at <paramref name="arrivalTimestamp"/>. When <paramref name="streaming"/>
    /// is false no tokens will be reported (<see cref="OnToken"/>), and only the total deadline applies.
    /// </summary>
    public GenerationWatchdog(ResilienceOptions options, int? maxTokens, long arrivalTimestamp, TimeProvider time, bool streaming,
        CancellationToken caller, CancellationToken shutdown)
    {
        _time = time;
        _arrival = arrivalTimestamp;
        _total = options.TotalTimeout(maxTokens);
        _idleTimeout = options.IdleTimeout;
        _caller = caller;
        _cts = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _callerRegistration = caller.UnsafeRegister(static state => ((GenerationWatchdog)state!).Cancel(), this);
        _shutdownRegistration = shutdown.UnsafeRegister(static state =>
        {
            var watchdog = (GenerationWatchdog)state!;
            watchdog._shutdown = true;
            watchdog.Cancel();
        }, this);
        Arm(streaming ? options.FirstTokenTimeout : Timeout.InfiniteTimeSpan);
    }

    /// <summary>Cancelled when a deadline passes, the caller gives up, or the drain window after SIGTERM ends.</summary>
    public CancellationToken Token => _cts.Token;

    /// <summary>Which deadline cancelled the generation; <see cref="GenerationTimeout.None"/> if none did (or the caller left).</summary>
    public GenerationTimeout Fired =>
        !_cts.IsCancellationRequested || _caller.IsCancellationRequested ? GenerationTimeout.None
        : _shutdown ? GenerationTimeout.Shutdown
        : _armed;

    /// <summary>Called for each token: the first ends the first-token wait, each re-arms the idle timer.</summary>
    public void OnToken()
    {
        _phase = GenerationTimeout.Idle;
        Arm(_idleTimeout);
    }

    public void Dispose()
    {
        _callerRegistration.Dispose();
        _shutdownRegistration.Dispose();
        _cts.Dispose();
    }

    private void Arm(TimeSpan phaseTimeout)
    {
        var remaining = _total - _time.GetElapsedTime(_arrival);
        (var delay, _armed) = phaseTimeout != Timeout.InfiniteTimeSpan && phaseTimeout < remaining ? (phaseTimeout, _phase) : (remaining, GenerationTimeout.Total);
        if (delay <= TimeSpan.Zero)
        {
            Cancel();
            return;
        }

        _cts.CancelAfter(delay);
    }

    private void Cancel()
    {
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The generation already ended.
        }
    }
}
