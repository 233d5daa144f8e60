using System.Diagnostics.Metrics;
using LlmApp.ApiKeys;
using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Quotas;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace LlmApp.Tests.Gateway;

/// <summary>
/// The per-key limits on their own, on .NET's real token buckets: what is refused, the headers, and how a reservation
/// is settled. Nothing here waits for a bucket to refill: the per-minute buckets refill a token a second at most.
/// </summary>
public sealed class KeyQuotasTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly KeyQuotas _quotas;

    public KeyQuotasTests() => _quotas = new KeyQuotas(_services.GetRequiredService<IMeterFactory>());

    [Fact]
    public void AKeyWithoutLimitsPassesWithoutHeaders()
    {
        var response = Response();

        var (quota, refusal) = _quotas.Acquire(Key("free"), new TokenReservation(1_000_000, 1_000_000), response);

        Assert.NotNull(quota);
        Assert.Null(refusal);
        Assert.DoesNotContain(response.Headers.Keys, h => h.StartsWith("x-ratelimit", StringComparison.Ordinal));
    }

    [Fact]
    public void NoLimiterRunsUntilAKeyWithALimitIsUsed()
    {
        // Each partitioned limiter replenishes on a timer ten times a second: an open gateway, or one whose keys have
        // no limits, must not wake for them.
        _quotas.Acquire(Key("free"), new TokenReservation(10, 10), Response());
        Assert.False(_quotas.LimitersStarted);

        _quotas.TakeRequest(Key("rpm", requests: 3), Response());
        Assert.True(_quotas.LimitersStarted);
    }

    [Fact]
    public void RequestsPerMinuteRefuseTheRequestOverTheLimitWithRetryAfterAndCountDownInTheHeaders()
    {
        var key = Key("rpm", requests: 3);
        var remaining = new List<string?>();
        for (var i = 0; i < 3; i++)
        {
            var response = Response();
            Assert.Null(_quotas.TakeRequest(key, response));
            Assert.Equal("3", response.Headers["x-ratelimit-limit-requests"]);
            remaining.Add(response.Headers["x-ratelimit-remaining-requests"]);
        }

        var refused = Response();
        var refusal = _quotas.TakeRequest(key, refused);

        Assert.Equal(["2", "1", "0"], remaining);
        Assert.Equal(429, refusal!.Status);
        Assert.Equal("rate_limit_exceeded", refusal.Error.Code);
        Assert.Equal("requests", refusal.Error.Type);
        Assert.InRange(refusal.RetryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));
        Assert.Contains("requests per minute (RPM): Limit 3", refusal.Error.Message, StringComparison.Ordinal);
        Assert.Equal("0", refused.Headers["x-ratelimit-remaining-requests"]);
        Assert.Equal("1m0s", refused.Headers["x-ratelimit-reset-requests"]);
    }

    [Fact]
    public void OneKeyOverItsLimitDoesNotTouchAnotherKeys()
    {
        var busy = Key("busy", requests: 1);
        Assert.Null(_quotas.TakeRequest(busy, Response()));
        Assert.NotNull(_quotas.TakeRequest(busy, Response()));

        Assert.Null(_quotas.TakeRequest(Key("quiet", requests: 1), Response()));
    }

    [Fact]
    public void UnusedReservedTokensComeBackWhenTheAnswerIsSettled()
    {
        var key = Key("tpm", tokens: 1000);
        var response = Response();
        var quota = _quotas.Acquire(key, new TokenReservation(900, 900), response).Quota!;
        Assert.Equal("100", response.Headers["x-ratelimit-remaining-tokens"]);
        Assert.NotNull(_quotas.Acquire(key, new TokenReservation(500, 500), Response()).Refusal);

        quota.Settle(Answered(usedTokens: 100));

        var after = Response();
        Assert.NotNull(_quotas.Acquire(key, new TokenReservation(500, 500), after).Quota);
        Assert.InRange(int.Parse(after.Headers["x-ratelimit-remaining-tokens"]!, System.Globalization.CultureInfo.InvariantCulture), 400, 410);
    }

    [Fact]
    public void TokensUsedBeyondTheReservationAreOwedByTheNextRequest()
    {
        var key = Key("debt", tokens: 1000);
        var quota = _quotas.Acquire(key, new TokenReservation(100, 100), Response()).Quota!;

        quota.Settle(Answered(usedTokens: 700));

        // 900 left in the bucket, 600 owed: 300 can be had, 400 cannot.
        Assert.NotNull(_quotas.Acquire(key, new TokenReservation(400, 400), Response()).Refusal);
        Assert.NotNull(_quotas.Acquire(key, new TokenReservation(290, 290), Response()).Quota);
    }

    [Fact]
    public void ACallThatNeverReachedABackendGivesItsWholeReservationBack()
    {
        var key = Key("failed", tokens: 1000);
        var quota = _quotas.Acquire(key, new TokenReservation(1000, 1000), Response()).Quota!;

        quota.Settle(new CallRecord("req", 0) { Error = "QueueFull" });

        Assert.NotNull(_quotas.Acquire(key, new TokenReservation(990, 990), Response()).Quota);
    }

    [Theory]
    [InlineData("backend_unreachable")]
    [InlineData("circuit_open")]
    [InlineData("http_503")]
    public void ACallTheBackendTurnedAwayBeforeAnyWorkGivesItsReservationBack(string error)
    {
        var key = Key("turned-away-" + error, tokens: 1000);
        var quota = _quotas.Acquire(key, new TokenReservation(1000, 1000), Response()).Quota!;

        quota.Settle(new CallRecord("req", 0) { Backend = "llm", Error = error });

        Assert.NotNull(_quotas.Acquire(key, new TokenReservation(990, 990), Response()).Quota);
    }

    [Theory]
    [InlineData(false, "timeout_total")]
    [InlineData(false, "client_closed")]
    [InlineData(true, "backend_disconnected")]
    [InlineData(false, "timeout_first_token")]
    public void ACallThatReachedTheBackendAndEndedWithoutUsageKeepsItsReservation(bool tokenCame, string error)
    {
        // A single answer abandoned or timed out, a stream cut off: what the backend did is unknown.
        var key = Key("unknown-" + error, tokens: 1000);
        var quota = _quotas.Acquire(key, new TokenReservation(800, 800), Response()).Quota!;

        quota.Settle(new CallRecord("req", 0) { Backend = "llm", Error = error, TimeToFirstToken = tokenCame ? TimeSpan.FromMilliseconds(5) : null });

        Assert.NotNull(_quotas.Acquire(key, new TokenReservation(300, 300), Response()).Refusal);
    }

    [Fact]
    public void DebtOfSeveralBucketsIsPaidInFullBeforeTheKeyIsServedAgain()
    {
        var key = Key("deep-debt", tokens: 100);
        var quota = _quotas.Acquire(key, new TokenReservation(100, 100), Response()).Quota!;

        // A prompt far longer than its estimate: 350 used of 100 reserved, 250 owed with the bucket empty.
        quota.Settle(Answered(usedTokens: 350));
        var (served, refusal) = _quotas.Acquire(key, new TokenReservation(10, 10), Response());

        Assert.Null(served);
        // 260 at 100 a minute: over two and a half minutes, not the one minute a debt capped at a bucket would say.
        Assert.InRange(refusal!.RetryAfter!.Value, TimeSpan.FromMinutes(2.5), TimeSpan.FromMinutes(2.7));
    }

    [Fact]
    public void ARequestLargerThanAMinutesTokensIsRefusedWithoutRetryAfter()
    {
        var (quota, refusal) = _quotas.Acquire(Key("small", tokens: 100), new TokenReservation(500, 500), Response());

        Assert.Null(quota);
        Assert.Equal("tokens", refusal!.Error.Type);
        Assert.Null(refusal.RetryAfter);
        Assert.Contains("Request too large", refusal.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AReservationWithoutMaxTokensIsCappedAtTheLimitInsteadOfRefused()
    {
        var key = Key("open-ended", tokens: 100);

        Assert.NotNull(_quotas.Acquire(key, new TokenReservation(Reserve: 5000, Minimum: 50), Response()).Quota);
    }

    [Fact]
    public void ARequestsRefusalComesBeforeAnyTokenIsReservedAndBothKindsOfHeadersComeWithAnAnswer()
    {
        var key = Key("both", requests: 1, tokens: 1000);
        var served = Response();
        Assert.Null(_quotas.TakeRequest(key, served));
        Assert.NotNull(_quotas.Acquire(key, new TokenReservation(100, 100), served).Quota);
        Assert.Equal("0", served.Headers["x-ratelimit-remaining-requests"]);
        Assert.Equal("1000", served.Headers["x-ratelimit-limit-tokens"]);

        var refused = Response();
        Assert.Equal("requests", _quotas.TakeRequest(key, refused)!.Error.Type);

        // Nothing of the refused request's tokens was taken: the next reservation finds the 900 left.
        Assert.NotNull(_quotas.Acquire(key, new TokenReservation(890, 890), Response()).Quota);
    }

    [Theory]
    [InlineData(20, "20ms")]
    [InlineData(1500, "1.5s")]
    [InlineData(360_000, "6m0s")]
    [InlineData(61_250, "1m1.25s")]
    public void ResetTimesAreWrittenAsOpenAIWritesThem(int milliseconds, string expected) =>
        Assert.Equal(expected, RateLimitHeaders.Duration(TimeSpan.FromMilliseconds(milliseconds)));

    public void Dispose()
    {
        _quotas.Dispose();
        _services.Dispose();
    }

    private static ApiKeyIdentity Key(string name, int? requests = null, int? tokens = null) => new(name, new KeyLimits(requests, tokens, null));

    private static HttpResponse Response() => new DefaultHttpContext().Response;

    private static CallRecord Answered(int usedTokens) =>
        new("req", 0) { Backend = "llm", TimeToFirstToken = TimeSpan.FromMilliseconds(5), Usage = new UsageDetails { TotalTokenCount = usedTokens } };
}
