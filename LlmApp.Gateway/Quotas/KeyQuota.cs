using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.Pipeline;

namespace LlmApp.Gateway.Quotas;

/// <summary>What one request took from its key's limits; <see cref="Settle"/> gives back the tokens it reserved and did not use.</summary>
internal sealed class KeyQuota
{
    /// <summary>A key without limits: nothing to settle.</summary>
    internal static readonly KeyQuota Unlimited = new(null, null, null, 0);

    private readonly KeyQuotas? _owner;
    private readonly ApiKeyIdentity? _key;
    private readonly TokenLedger? _ledger;
    private readonly int _reserved;
    private int _settled;

    internal KeyQuota(KeyQuotas? owner, ApiKeyIdentity? key, TokenLedger? ledger, int reserved)
    {
        _owner = owner;
        _key = key;
        _ledger = ledger;
        _reserved = reserved;
    }

    /// <summary>Tokens this request took from its key's per-minute budget (0 for a key without a tokens limit).</summary>
    public int Reserved => _reserved;

    /// <summary>Whether the key has a tokens-per-minute limit, which the request's output must then stay within.</summary>
    public bool LimitsTokens => _ledger is not null;

    /// <summary>
    /// Once the answer is over: the backend's usage replaces the reservation. Without usage, a call that never reached a
    /// backend (refused by admission or the checks before it), or that the backend turned away before doing any work
    /// (unreachable, circuit open, an HTTP error before the first token), used nothing. Any other call without usage
    /// (abandoned by its client, timed out, cut off mid-answer, a single answer that never came) keeps its whole
    /// reservation: what it made the backend do is unknown, so the count errs on the side of the limit.
    /// </summary>
    public void Settle(CallRecord call)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (_ledger is null || Interlocked.Exchange(ref _settled, 1) != 0)
        {
            return;
        }

        long? used = call.Usage?.TotalTokenCount ?? (call.Backend is null || TurnedAwayBeforeWork(call) ? 0 : null);
        if (used is { } tokens)
        {
            _owner!.Settle(_key!, _ledger, _reserved - tokens);
        }
    }

    private static bool TurnedAwayBeforeWork(CallRecord call) =>
        call.TimeToFirstToken is null &&
        (call.Error is "backend_unreachable" or "circuit_open" || call.Error?.StartsWith("http_", StringComparison.Ordinal) == true);
}
