using System.Globalization;
using LlmApp.Gateway.Configuration;

namespace LlmApp.Gateway.Quotas;

/// <summary>
/// OpenAI's rate-limit headers, which SDKs and their users read to pace themselves: per dimension a key is limited
/// in, the limit, what is left, and when it is whole again (<c>x-ratelimit-reset-*</c>, written as OpenAI writes it:
/// <c>20ms</c>, <c>1.5s</c>, <c>6m0s</c>).
/// </summary>
internal static class RateLimitHeaders
{
    public static void Write(IHeaderDictionary headers, string dimension, int limit, long remaining)
    {
        headers[$"x-ratelimit-limit-{dimension}"] = limit.ToString(CultureInfo.InvariantCulture);
        headers[$"x-ratelimit-remaining-{dimension}"] = remaining.ToString(CultureInfo.InvariantCulture);
        headers[$"x-ratelimit-reset-{dimension}"] = Duration(PerMinute.UntilFull(limit, remaining));
    }

    public static string Duration(TimeSpan time)
    {
        if (time < TimeSpan.FromSeconds(1))
        {
            return $"{(long)Math.Ceiling(time.TotalMilliseconds)}ms";
        }

        if (time < TimeSpan.FromMinutes(1))
        {
            return $"{Math.Round(time.TotalSeconds, 3).ToString(CultureInfo.InvariantCulture)}s";
        }

        return $"{(long)time.TotalMinutes}m{Math.Round(time.TotalSeconds % 60, 3).ToString(CultureInfo.InvariantCulture)}s";
    }
}
