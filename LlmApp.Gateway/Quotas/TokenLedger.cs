using System.Threading.RateLimiting;
using LlmApp.Gateway.Authentication;

namespace LlmApp.Gateway.Quotas;

/// <summary>
/// One key's tokens-per-minute account. Its bucket is a <see cref="TokenBucketRateLimiter"/> (in the partitioned
/// limiter), which can only hand permits out: it cannot take unused ones back, nor go below empty. A request reserves
/// its prompt estimate plus its <c>max_tokens</c> up front, because its real use is known only at the end; the
/// ledger settles the difference beside the bucket:
/// <list type="bullet">
/// <item>Unused tokens become credit, spent by this key's next reservations before the bucket is asked. Credit never
/// makes the key's balance more than a full bucket (the excess is dropped), so reconciling cannot raise the limit.</item>
/// <item>Tokens used beyond the reservation (a prompt longer than its estimate) become debt, paid before the key's
/// next request gets any: all of it, however many buckets it is, a bucketful at a time, so no overrun is ever forgiven.</item>
/// </list>
/// </summary>
internal sealed class TokenLedger(int limit)
{
    private readonly Lock _gate = new();
    private long _balance;

    public int Limit { get; } = limit;

    /// <summary>Takes <paramref name="tokens"/> (at most <see cref="Limit"/>); false, with when to come back, when there are not enough.</summary>
    public bool TryReserve(PartitionedRateLimiter<ApiKeyIdentity> bucket, ApiKeyIdentity key, int tokens, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        lock (_gate)
        {
            var usable = Usable(bucket, key);
            var need = tokens - usable;
            if (need <= 0)
            {
                _balance = usable - tokens;
                return true;
            }

            if (need > Limit)
            {
                // Debt beyond what one bucket holds beside this request: what the bucket has goes to the debt, and the
                // request waits until the rest of it has been paid.
                var available = Available(bucket, key);
                if (available > 0)
                {
                    using var payment = bucket.AttemptAcquire(key, (int)available);
                    _balance += payment.IsAcquired ? available : 0;
                }

                // At a bucketful a minute, until the debt and this request fit (at most an hour is said).
                retryAfter = TimeSpan.FromTicks(TimeSpan.TicksPerMinute * Math.Min(tokens - _balance, 60L * Limit) / Limit);
                return false;
            }

            using var lease = bucket.AttemptAcquire(key, (int)need);
            if (!lease.IsAcquired)
            {
                retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromTicks(TimeSpan.TicksPerMinute * need / Limit);
                return false;
            }

            _balance = 0;
            return true;
        }
    }

    /// <summary>Settles a reservation: <paramref name="difference"/> is what was reserved less what was used (negative when more was used).</summary>
    public void Settle(PartitionedRateLimiter<ApiKeyIdentity> bucket, ApiKeyIdentity key, long difference)
    {
        lock (_gate)
        {
            _balance = Math.Min(_balance + difference, Limit);
            _balance = Usable(bucket, key);
        }
    }

    /// <summary>Tokens the key could take now: the bucket's, with the credit added or the debt taken off.</summary>
    public long Remaining(PartitionedRateLimiter<ApiKeyIdentity> bucket, ApiKeyIdentity key)
    {
        lock (_gate)
        {
            return Math.Clamp(Available(bucket, key) + Usable(bucket, key), 0, Limit);
        }
    }

    /// <summary>The balance as far as it counts: debt in full, credit only up to what would fill the bucket.</summary>
    private long Usable(PartitionedRateLimiter<ApiKeyIdentity> bucket, ApiKeyIdentity key) =>
        _balance <= 0 ? _balance : Math.Min(_balance, Limit - Available(bucket, key));

    private static long Available(PartitionedRateLimiter<ApiKeyIdentity> bucket, ApiKeyIdentity key) =>
        bucket.GetStatistics(key)?.CurrentAvailablePermits ?? 0;
}
