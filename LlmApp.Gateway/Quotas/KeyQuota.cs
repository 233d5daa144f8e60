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

    /// <summary>
    /// Once the answer is over: the backend's usage replaces the reservation. Without usage, a call that produced no
    /// token (refused, failed before the first) used nothing, and one cut off mid-answer keeps its whole reservation:
    /// what it generated is unknown, so the count errs on the side of the limit.
    /// </summary>
    public void Settle(ChatCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (_ledger is null || Interlocked.Exchange(ref _settled, 1) != 0)
        {
            return;
        }

        long? used = call.Usage?.TotalTokenCount ?? (call.TimeToFirstToken is null ? 0 : null);
        if (used is { } tokens)
        {
            _owner!.Settle(_key!, _ledger, _reserved - tokens);
        }
    }
}
