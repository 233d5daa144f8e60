using LlmApp.Gateway.Failures;

namespace LlmApp.Gateway.Admission;

public static class AdmissionRefusals
{
    /// <summary>What a client is told when admission turns it away: 429 when the gateway is full, 503 when it is stopping.</summary>
    public static GatewayFailure For(AdmissionOutcome outcome) => outcome switch
    {
        AdmissionOutcome.ShuttingDown =>
            GatewayFailure.Unavailable("The server is shutting down; try again.", "server_shutting_down", nameof(AdmissionOutcome.ShuttingDown), TimeSpan.FromSeconds(5)),
        AdmissionOutcome.QueueTimeout =>
            GatewayFailure.Overloaded("No model slot came free within the queue's longest wait (or the request's deadline); retry shortly.",
                nameof(AdmissionOutcome.QueueTimeout)),
        AdmissionOutcome.QueueFull =>
            GatewayFailure.Overloaded("All model slots are busy and the queue is full; retry shortly.", nameof(AdmissionOutcome.QueueFull)),
        AdmissionOutcome.QueueShare =>
            GatewayFailure.Overloaded("All model slots are busy and this API key held more than its share of the full queue; retry shortly.",
                nameof(AdmissionOutcome.QueueShare)),
        AdmissionOutcome.KeyRevoked => GatewayFailure.Unauthorized("The API key was revoked while the request waited for a model slot."),
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "Not a refusal."),
    };
}
