using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using LlmApp.Gateway.Configuration;

namespace LlmApp.Gateway.Authentication;

/// <summary>
/// Refusals of wrong keys, counted per remote address (<c>Auth:MaxFailuresPerMinute</c>): past the limit, that address
/// gets 429 with <c>Retry-After</c> before its key is even looked at, so that guessing keys costs a minute per handful.
/// Behind a reverse proxy, the address is the client's only where the proxy is trusted (<c>Proxy:Trusted</c>);
/// otherwise every client shares the proxy's. The buckets are made at the first refusal: a gateway whose clients all
/// have their keys right pays nothing for them.
/// </summary>
internal sealed class FailedAuthentications(IOptions<AuthOptions> options) : IDisposable
{
    private readonly int _limit = options.Value.MaxFailuresPerMinute;
    private PartitionedRateLimiter<IPAddress>? _buckets;

    /// <summary>How long <paramref name="address"/> must wait before its next attempt, or null when it may try now.</summary>
    public TimeSpan? Blocked(IPAddress? address)
    {
        if (Volatile.Read(ref _buckets) is not { } buckets || address is null)
        {
            return null;
        }

        return buckets.GetStatistics(address)?.CurrentAvailablePermits > 0 ? null : PerMinute.UntilFull(_limit, 0) / _limit;
    }

    /// <summary>Counts one refusal of <paramref name="address"/>.</summary>
    public void Add(IPAddress? address)
    {
        if (address is null)
        {
            return;
        }

        var buckets = Volatile.Read(ref _buckets);
        if (buckets is null)
        {
            var made = PartitionedRateLimiter.Create<IPAddress, IPAddress>(ip => RateLimitPartition.GetTokenBucketLimiter(ip, _ => PerMinute.Bucket(_limit)));
            buckets = Interlocked.CompareExchange(ref _buckets, made, null) ?? made;
            if (buckets != made)
            {
                made.Dispose();
            }
        }

        using var lease = buckets.AttemptAcquire(address);
    }

    public void Dispose() => _buckets?.Dispose();
}
