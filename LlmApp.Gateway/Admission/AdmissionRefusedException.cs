using LlmApp.Gateway.Pipeline;

namespace LlmApp.Gateway.Admission;

/// <summary>
/// Admission turned the call away: the queue was full or its wait too long, its time-to-first-token objective could not
/// be met, its key revoked, or the host stopping. <see cref="RetryAfter"/> is when the prediction says it could be met;
/// <see cref="Detail"/> names the decode-rate floor when that held slots back.
/// </summary>
public sealed class AdmissionRefusedException(AdmissionOutcome outcome, TimeSpan? retryAfter = null, string? detail = null)
    : CallRefusedException($"Admission refused the call: {outcome}.")
{
    public AdmissionOutcome Outcome { get; } = outcome;

    public TimeSpan? RetryAfter { get; } = retryAfter;

    public string? Detail { get; } = detail;

    public override string Reason => Outcome.ToString();
}
