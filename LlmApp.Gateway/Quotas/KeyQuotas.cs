using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using Microsoft.Extensions.AI;
using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Observability;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Configuration;

namespace LlmApp.Gateway.Quotas;

/// <summary>
/// Requests and tokens per minute, per API key (OWASP LLM10): <see cref="PartitionedRateLimiter{TResource}"/>s of token
/// buckets, one partition per key name and limit, so that a reload that changes a key's limit starts it afresh. A key
/// without limits (and every request while <c>/v1</c> is open) passes without touching a limiter. The limiters are made
/// when the first limited key is used: each runs a timer ten times a second (its replenishing), which a gateway with no
/// limits should not pay for, idle or on its per-token path.
/// </summary>
internal sealed class KeyQuotas : IDisposable
{
    private readonly Lazy<PartitionedRateLimiter<ApiKeyIdentity>> _requestLimiters = new(() => Partitioned(key => key.Limits.RequestsPerMinute));
    private readonly Lazy<PartitionedRateLimiter<ApiKeyIdentity>> _tokenLimiters = new(() => Partitioned(key => key.Limits.TokensPerMinute));
    private readonly ConcurrentDictionary<(string Name, int Limit), TokenLedger> _ledgers = new();
    private readonly Counter<long> _refusals;

    public KeyQuotas(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _refusals = meterFactory.Create(GatewayMetrics.MeterName).CreateCounter<long>("llmapp.gateway.rate_limited", "{request}",
            "Requests refused with 429 because their API key was over its requests or tokens per minute, by limit.");
    }

    /// <summary>
    /// Takes one request from <paramref name="key"/>'s requests per minute, before anything of the request is read, and
    /// writes the <c>x-ratelimit-*-requests</c> headers; or says why not (429, with <c>Retry-After</c>). A request it
    /// lets through counts against the limit whatever becomes of it, as OpenAI counts it.
    /// </summary>
    public GatewayFailure? TakeRequest(ApiKeyIdentity key, HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(response);
        if (key.Limits.RequestsPerMinute is not { } requestLimit)
        {
            return null;
        }

        using var lease = RequestLimiter.AttemptAcquire(key);
        WriteHeaders(key, null, response.Headers);
        if (lease.IsAcquired)
        {
            return null;
        }

        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromTicks(TimeSpan.TicksPerMinute / requestLimit);
        return Refuse("requests", GatewayFailure.RateLimited(
            $"Rate limit reached for key '{key.Name}' on requests per minute (RPM): Limit {requestLimit}, Used {requestLimit}, Requested 1. " +
            $"Please try again in {RateLimitHeaders.Duration(retryAfter)}.", "requests", retryAfter));
    }

    /// <summary>
    /// Reserves <paramref name="tokens"/> tokens of <paramref name="key"/>'s tokens per minute, once the request is read
    /// and its size known, and writes the <c>x-ratelimit-*-tokens</c> headers; or says why not (429, with
    /// <c>Retry-After</c> unless the request could never fit). The quota settles the reservation with the real usage.
    /// </summary>
    public (KeyQuota? Quota, GatewayFailure? Refusal) Acquire(ApiKeyIdentity key, TokenReservation tokens, HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(response);
        if (key.Limits.TokensPerMinute is not { } tokenLimit)
        {
            return (KeyQuota.Unlimited, null);
        }

        if (tokens.Minimum > tokenLimit)
        {
            return (null, Refuse("tokens", GatewayFailure.RateLimited(
                $"Request too large for key '{key.Name}' on tokens per minute (TPM): Limit {tokenLimit}, Requested {tokens.Minimum}. " +
                "Reduce the prompt or max_tokens.", "tokens", retryAfter: null)));
        }

        var ledger = _ledgers.GetOrAdd((key.Name, tokenLimit), static k => new TokenLedger(k.Limit));
        var reserved = (int)Math.Min(tokens.Reserve, tokenLimit);
        var taken = ledger.TryReserve(TokenLimiter, key, reserved, out var retryAfter);
        WriteHeaders(key, ledger, response.Headers);
        return taken
            ? (new KeyQuota(this, key, ledger, reserved), null)
            : (null, Refuse("tokens", GatewayFailure.RateLimited(
                $"Rate limit reached for key '{key.Name}' on tokens per minute (TPM): Limit {tokenLimit}, Requested {reserved}. " +
                $"Please try again in {RateLimitHeaders.Duration(retryAfter)}.", "tokens", retryAfter)));
    }

    /// <summary>
    /// Reserves a chat request's tokens: its prompt, estimated (its messages, its tools' declarations and its stop strings,
    /// all of which the backend reads), and its <c>max_tokens</c>; without one, as many as the server lets it generate
    /// (<paramref name="ceiling"/>, <c>Limits:MaxOutputTokens</c>, else what the context leaves after the prompt). Then it
    /// tells the backend, through the request's options, what it may generate, so that it never makes more than was counted.
    /// </summary>
    public (KeyQuota? Quota, GatewayFailure? Refusal) AcquireChat(ApiKeyIdentity key, MappedChatRequest request, int ceiling, int? contextLength, HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(request);
        var prompt = TokenReservation.EstimatePrompt(request.PromptCharacters + TokenReservation.CountDeclarations(request.Options), request.Messages.Count);
        var defaultOutput = ceiling > 0 ? ceiling : (int)Math.Max(0, (contextLength ?? 0) - prompt);
        var (quota, refusal) = Acquire(key, TokenReservation.Chat(prompt, request.Options.MaxOutputTokens, defaultOutput), response);
        if (quota is not null)
        {
            LimitOutput(request.Options, quota, prompt, ceiling);
        }

        return (quota, refusal);
    }

    /// <summary>
    /// What the backend is told it may generate: the ceiling when the client set none, and, for a key with a
    /// tokens-per-minute limit, no more than its reservation leaves after the prompt (a request without
    /// <c>max_tokens</c> reserves at most one bucket). Without either, the backend's own default is the context left
    /// after the prompt, which is what was reserved.
    /// </summary>
    private static void LimitOutput(ChatOptions options, KeyQuota quota, long promptEstimate, int ceiling)
    {
        if (options.MaxOutputTokens is null && ceiling > 0)
        {
            options.MaxOutputTokens = ceiling;
        }

        if (quota.LimitsTokens)
        {
            var budget = (int)Math.Max(1, quota.Reserved - promptEstimate);
            if (options.MaxOutputTokens is null || options.MaxOutputTokens > budget)
            {
                options.MaxOutputTokens = budget;
            }
        }
    }

    /// <summary>Whether a limiter (and its timer) has been made: not until a key with a limit is used.</summary>
    internal bool LimitersStarted => _requestLimiters.IsValueCreated || _tokenLimiters.IsValueCreated;

    public void Dispose()
    {
        if (_requestLimiters.IsValueCreated)
        {
            _requestLimiters.Value.Dispose();
        }

        if (_tokenLimiters.IsValueCreated)
        {
            _tokenLimiters.Value.Dispose();
        }
    }

    private PartitionedRateLimiter<ApiKeyIdentity> RequestLimiter => _requestLimiters.Value;

    private PartitionedRateLimiter<ApiKeyIdentity> TokenLimiter => _tokenLimiters.Value;

    internal void Settle(ApiKeyIdentity key, TokenLedger ledger, long difference) => ledger.Settle(TokenLimiter, key, difference);

    private void WriteHeaders(ApiKeyIdentity key, TokenLedger? ledger, IHeaderDictionary headers)
    {
        if (key.Limits.RequestsPerMinute is { } rpm)
        {
            RateLimitHeaders.Write(headers, "requests", rpm, RequestLimiter.GetStatistics(key)?.CurrentAvailablePermits ?? 0);
        }

        if (ledger is not null)
        {
            RateLimitHeaders.Write(headers, "tokens", ledger.Limit, ledger.Remaining(TokenLimiter, key));
        }
    }

    private GatewayFailure Refuse(string limit, GatewayFailure failure)
    {
        _refusals.Add(1, new KeyValuePair<string, object?>("llmapp.rate_limit", limit));
        return failure;
    }

    private static PartitionedRateLimiter<ApiKeyIdentity> Partitioned(Func<ApiKeyIdentity, int?> perMinute) =>
        PartitionedRateLimiter.Create<ApiKeyIdentity, (string, int)>(key => perMinute(key) is { } limit
            ? RateLimitPartition.GetTokenBucketLimiter((key.Name, limit), static p => PerMinute.Bucket(p.Item2))
            : RateLimitPartition.GetNoLimiter((key.Name, 0)));
}
