namespace LlmApp.Gateway.Backend;

/// <summary>
/// A backend's prefill time as a fixed cost and a rate, <c>seconds = cost + tokens / rate</c>, fitted by least squares
/// to its recent calls (each weighs a tenth, the older ones fading): a short prompt's time is mostly the fixed cost, and
/// a rate taken from it alone would make a long prompt look far slower than it is. While the calls' prompt sizes are
/// too alike to tell the two apart, the whole time counts as rate. Not thread-safe: <see cref="BackendSpeed"/> locks it.
/// </summary>
internal sealed class PrefillFit
{
    private const double Weight = 0.1;

    private double _tokens;
    private double _seconds;
    private double _tokensSquared;
    private double _tokensSeconds;
    private bool _any;

    /// <summary>Tokens a second beyond the fixed cost; 0 until a call is known.</summary>
    public double Rate => Fit().SecondsPerToken is > 0 and var perToken ? 1 / perToken : 0;

    /// <summary>Predicted seconds to read <paramref name="tokens"/> prompt tokens; 0 until a call is known.</summary>
    public double Seconds(double tokens)
    {
        var (cost, perToken) = Fit();
        return cost + (perToken * tokens);
    }

    public void Add(double tokens, double seconds)
    {
        if (!_any)
        {
            (_tokens, _seconds, _tokensSquared, _tokensSeconds, _any) = (tokens, seconds, tokens * tokens, tokens * seconds, true);
            return;
        }

        _tokens += Weight * (tokens - _tokens);
        _seconds += Weight * (seconds - _seconds);
        _tokensSquared += Weight * ((tokens * tokens) - _tokensSquared);
        _tokensSeconds += Weight * ((tokens * seconds) - _tokensSeconds);
    }

    private (double Cost, double SecondsPerToken) Fit()
    {
        if (!_any || _tokens <= 0)
        {
            return (0, 0);
        }

        var variance = _tokensSquared - (_tokens * _tokens);
        if (variance > 1)
        {
            var perToken = (_tokensSeconds - (_tokens * _seconds)) / variance;
            var cost = _seconds - (perToken * _tokens);
            if (perToken > 0 && cost >= 0)
            {
                return (cost, perToken);
            }
        }

        return (0, _seconds / _tokens);
    }
}
