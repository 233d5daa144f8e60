using System.Globalization;
using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.Configuration;
using LlmApp.Gateway.Failures;

namespace LlmApp.Gateway.Apis;

/// <summary>
/// A chat request's time-to-first-token objective: the tightest of <c>Slo:TimeToFirstToken</c>, its key's
/// <c>ttftMs</c> and its own <c>X-LlmApp-Ttft-Ms</c> header (which can only tighten what the others promise).
/// </summary>
internal static class FirstTokenObjective
{
    private const int MaxMilliseconds = 3_600_000;

    public static (TimeSpan? Objective, GatewayFailure? Invalid) Read(HttpRequest request, SloOptions slo, ApiKeyIdentity key)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(slo);
        ArgumentNullException.ThrowIfNull(key);
        var objective = slo.TimeToFirstToken;
        if (key.Limits.TimeToFirstTokenMs is { } keyMs)
        {
            objective = Tightest(objective, TimeSpan.FromMilliseconds(keyMs));
        }

        if (request.Headers.TryGetValue(SloOptions.TimeToFirstTokenHeader, out var values))
        {
            if (values.Count != 1 || !int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ms) || ms is < 1 or > MaxMilliseconds)
            {
                return (null, GatewayFailure.InvalidRequest(
                    $"The {SloOptions.TimeToFirstTokenHeader} header is the time to first token this request needs, in whole milliseconds from 1 to {MaxMilliseconds}.",
                    SloOptions.TimeToFirstTokenHeader, "invalid_header"));
            }

            objective = Tightest(objective, TimeSpan.FromMilliseconds(ms));
        }

        return (objective, null);
    }

    private static TimeSpan Tightest(TimeSpan? current, TimeSpan other) => current is { } value && value < other ? value : other;
}
