using System.Threading.RateLimiting;

namespace LlmApp.Gateway.Resilience;

/// <summary>
/// Admits at most as many generations as the backend has slots, with a bounded queue in front: the backend's own
/// queue is unbounded and invisible, so overload is answered here with a fast 429 instead. A request waits in the
/// queue no longer than its deadline. Once the host is stopping, nothing new is admitted.
/// </summary>
public sealed class AdmissionControl(BackendCapacity capacity, IHostApplicationLifetime lifetime) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private ConcurrencyLimiter? _limiter;
    private int _limit;

    public enum Outcome
    {
        Admitted,
        QueueFull,
        QueueTimeout,
        ShuttingDown,
        ClientLeft,
    }

    /// <summary>Requests waiting for a slot now.</summary>
    public long Queued => Limiter().GetStatistics()?.CurrentQueuedCount ?? 0;

    public async Task<(Outcome Outcome, RateLimitLease? Lease)> AdmitAsync(TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return (Outcome.ShuttingDown, null);
        }

        var limiter = Limiter();
        var lease = limiter.AttemptAcquire();
        if (lease.IsAcquired)
        {
            return (Outcome.Admitted, lease);
        }

        lease.Dispose();
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        wait.CancelAfter(maxWait);
        try
        {
            lease = await limiter.AcquireAsync(1, wait.Token);
        }
        catch (OperationCanceledException)
        {
            return (cancellationToken.IsCancellationRequested ? Outcome.ClientLeft
                : lifetime.ApplicationStopping.IsCancellationRequested ? Outcome.ShuttingDown
                : Outcome.QueueTimeout, null);
        }

        if (lease.IsAcquired)
        {
            return (Outcome.Admitted, lease);
        }

        // The limiter refuses at once when its queue is full.
        lease.Dispose();
        return (Outcome.QueueFull, null);
    }

    public async ValueTask DisposeAsync()
    {
        if (_limiter is not null)
        {
            await _limiter.DisposeAsync();
        }
    }

    private ConcurrencyLimiter Limiter()
    {
        var limit = capacity.Slots;
        if (_limiter is not null && limit == _limit)
        {
            return _limiter;
        }

        lock (_gate)
        {
            // Built once the backend's capacity is known; a request already holding a lease of the first limiter
            // (built on the configured fallback) keeps it until it ends.
            if (_limiter is null || limit != _limit)
            {
                _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
                {
                    PermitLimit = limit,
                    QueueLimit = capacity.QueueLimit,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                });
                _limit = limit;
            }

            return _limiter;
        }
    }
}
