using LlmApp.Gateway.Configuration;

namespace LlmApp.Gateway.Resilience;

/// <summary>
/// Streaming-aware deadlines for one generation: the time to the first token, the silence between tokens, and a
/// total deadline counted from the request's arrival, all cancelling the backend call through one token. Polly's
/// timeout strategy bounds a single call; a stream needs a deadline that moves with every token (as YARP's activity
/// timeout does). A token only notes its time: one timer, due no later than the earliest deadline, finds out when it
/// fires whether tokens came meanwhile and, if so, waits out the rest. So the per-token path touches no timer, and the
/// timer fires about once per idle timeout of a healthy stream. The timer runs on the given <see cref="TimeProvider"/>,
/// so tests can move time by hand.
/// </summary>
public sealed class GenerationWatchdog : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly ITimer _timer;
    private readonly TimeProvider _time;
    private readonly long _arrival;
    private readonly long _started;
    private readonly TimeSpan _total;
    private readonly TimeSpan _firstTokenTimeout;
    private readonly TimeSpan _idleTimeout;
    private readonly CancellationToken _caller;
    private readonly CancellationTokenRegistration _callerRegistration;
    private readonly CancellationTokenRegistration _shutdownRegistration;
    private readonly Lock _scheduling = new();

    // The last token's timestamp; _tokenSeen says whether there has been one.
    private long _lastToken;
    private volatile bool _tokenSeen;
    private volatile GenerationTimeout _fired;
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
        _started = time.GetTimestamp();
        _total = options.TotalTimeout(maxTokens);
        _firstTokenTimeout = streaming ? options.FirstTokenTimeout : Timeout.InfiniteTimeSpan;
        _idleTimeout = options.IdleTimeout;
        _caller = caller;
        _timer = time.CreateTimer(static state => ((GenerationWatchdog)state!).Schedule(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _callerRegistration = caller.UnsafeRegister(static state => ((GenerationWatchdog)state!).Cancel(), this);
        _shutdownRegistration = shutdown.UnsafeRegister(static state =>
        {
            var watchdog = (GenerationWatchdog)state!;
            watchdog._shutdown = true;
            watchdog.Cancel();
        }, this);
        Schedule();
    }

    /// <summary>Cancelled when a deadline passes, the caller gives up, or the drain window after SIGTERM ends.</summary>
    public CancellationToken Token => _cts.Token;

    /// <summary>Which deadline cancelled the generation; <see cref="GenerationTimeout.None"/> if none did (or the caller left).</summary>
    public GenerationTimeout Fired =>
        !_cts.IsCancellationRequested || _caller.IsCancellationRequested ? GenerationTimeout.None
        : _shutdown ? GenerationTimeout.Shutdown
        : _fired;

    /// <summary>Called for each token: the first ends the first-token wait, and each moves the idle deadline.</summary>
    public void OnToken()
    {
        Volatile.Write(ref _lastToken, _time.GetTimestamp());
        if (!_tokenSeen)
        {
            _tokenSeen = true;
            // The idle deadline replaces the first-token one, which may be later.
            Schedule();
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _callerRegistration.Dispose();
        _shutdownRegistration.Dispose();
        _cts.Dispose();
    }

    /// <summary>
    /// Cancels if the earliest deadline has passed; otherwise sets the timer for it. The timer's callback and the first
    /// token can both get here at once; the lock keeps one from setting the timer from a phase the other has ended.
    /// </summary>
    private void Schedule()
    {
        lock (_scheduling)
        {
            var now = _time.GetTimestamp();
            var (left, deadline) = (_total - _time.GetElapsedTime(_arrival, now), GenerationTimeout.Total);
            var phaseLeft = _tokenSeen ? _idleTimeout - _time.GetElapsedTime(Volatile.Read(ref _lastToken), now)
                : _firstTokenTimeout == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan
                : _firstTokenTimeout - _time.GetElapsedTime(_started, now);
            if (phaseLeft != Timeout.InfiniteTimeSpan && phaseLeft < left)
            {
                (left, deadline) = (phaseLeft, _tokenSeen ? GenerationTimeout.Idle : GenerationTimeout.FirstToken);
            }

            if (left > TimeSpan.Zero)
            {
                _timer.TryChange(left);
                return;
            }

            _fired = deadline;
        }

        // Outside the lock: cancelling runs the call's own callbacks.
        Cancel();
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
