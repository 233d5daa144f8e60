using LlmApp.Gateway.Pipeline;

namespace LlmApp.Gateway.Admission;

/// <summary>Admission turned the call away: the queue was full or its wait too long, its key revoked, or the host stopping.</summary>
public sealed class AdmissionRefusedException(AdmissionOutcome outcome)
    : CallRefusedException($"Admission refused the call: {outcome}.")
{
    public AdmissionOutcome Outcome { get; } = outcome;

    public override string Reason => Outcome.ToString();
}
