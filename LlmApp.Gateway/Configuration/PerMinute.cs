using System.Threading.RateLimiting;

namespace LlmApp.Gateway.Configuration;

/// <summary>A per-minute limit as a token bucket: a minute's worth at most, refilled evenly through the minute.</summary>
internal static class PerMinute
{
    /// <summary>
    /// A bucket of <paramref name="limit"/> permits that refills <paramref name="limit"/> a minute, in steps of about a
    /// second (one permit at a time below 60 a minute). Not auto-replenishing: the partitioned limiter that holds it
    /// replenishes its buckets every 100 ms, so a thousand keys cost no thousand timers.
    /// </summary>
    public static TokenBucketRateLimiterOptions Bucket(int limit)
    {
        var perStep = (limit + 59) / 60;
        return new()
        {
            TokenLimit = limit,
            TokensPerPeriod = perStep,
            ReplenishmentPeriod = TimeSpan.FromTicks(TimeSpan.TicksPerMinute * perStep / limit),
            QueueLimit = 0,
            AutoReplenishment = false,
        };
    }

    /// <summary>How long until a bucket of <paramref name="limit"/> with <paramref name="available"/> left is full again.</summary>
    public static TimeSpan UntilFull(int limit, long available) =>
        available >= limit ? TimeSpan.Zero : TimeSpan.FromTicks(TimeSpan.TicksPerMinute * (limit - Math.Max(0, available)) / limit);
}
