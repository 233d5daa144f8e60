using System.Diagnostics;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// How fast one backend is, learned from the calls it served: moving averages (each call weighs a fifth) of its
/// prefill (a fixed cost and a rate, fitted to the prompt tokens it read and the time that took), the rest of a call's
/// time before its first token, its decode rate per stream at each number of streams running together, and the
/// size of a typical call (prompt characters a token, the share of a prompt found in its cache, prompt and output tokens). From llama-server's own <c>timings</c> where it sends them, else from the usage and
/// the gateway's clocks. Admission predicts a call's time to first token from it. Unknown until the first call: 0.
/// </summary>
public sealed class BackendSpeed
{
    /// <summary>Streams running together that the decode rate is kept for; more count as this many.</summary>
    public const int MaxStreams = 64;

    private const double Weight = 0.2;

    // A backend's first calls pay for its warm-up (and the gateway's): their time before the first token is not learned.
    private const int WarmUpCalls = 2;

    private readonly Lock _gate = new();
    private readonly double[] _decode = new double[MaxStreams + 1];
    private readonly PrefillFit _prefill = new();
    private double _cachedShare;
    private double _overhead;
    private double _charsPerToken;
    private double _promptTokens;
    private double _outputTokens;
    private int _running;
    private int _calls;
    private long _lastCall;

    /// <summary>Streams the backend is running now, as admission counts its slots.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Prompt tokens read a second (beyond a call's fixed cost); 0 until known.</summary>
    public double PrefillRate
    {
        get
        {
            lock (_gate)
            {
                return _prefill.Rate;
            }
        }
    }

    /// <summary>The share of a prompt's tokens the backend typically finds in its cache (a system prompt, say); 0 until known.</summary>
    public double CachedShare
    {
        get
        {
            lock (_gate)
            {
                return _cachedShare;
            }
        }
    }

    /// <summary>Prompt characters a token (the backend's tokenizer on this traffic); 4 until known.</summary>
    public double CharsPerToken
    {
        get
        {
            lock (_gate)
            {
                return _charsPerToken > 0 ? _charsPerToken : 4;
            }
        }
    }

    /// <summary>Output tokens of a typical call; 256 until known.</summary>
    public double OutputTokens
    {
        get
        {
            lock (_gate)
            {
                return _outputTokens > 0 ? _outputTokens : 256;
            }
        }
    }

    internal void SetRunning(int running) => Volatile.Write(ref _running, running);

    /// <summary>
    /// Whether nothing was learned for <paramref name="age"/>: what is known may be out of date, and admission lets a
    /// call through to learn again rather than go on refusing on it.
    /// </summary>
    public bool IsStale(TimeSpan age)
    {
        var last = Volatile.Read(ref _lastCall);
        return last == 0 || Stopwatch.GetElapsedTime(last) > age;
    }

    /// <summary>
    /// Tokens a second each of <paramref name="streams"/> streams decodes at: as measured at that many, or else at the
    /// nearest fewer measured (a guess that lets admission try, and so learn, one more); 0 when nothing is known.
    /// </summary>
    public double DecodeRate(int streams)
    {
        lock (_gate)
        {
            var n = Math.Clamp(streams, 1, MaxStreams);
            for (var k = n; k >= 1; k--)
            {
                if (_decode[k] > 0)
                {
                    return _decode[k];
                }
            }

            for (var k = n + 1; k <= MaxStreams; k++)
            {
                if (_decode[k] > 0)
                {
                    return _decode[k];
                }
            }

            return 0;
        }
    }

    /// <summary>Whether a decode rate was measured at exactly <paramref name="streams"/> streams.</summary>
    public bool Measured(int streams)
    {
        lock (_gate)
        {
            return streams is >= 1 and <= MaxStreams && _decode[streams] > 0;
        }
    }

    /// <summary>The decode rates measured so far, by number of streams.</summary>
    public IReadOnlyList<(int Streams, double Rate)> DecodeRates()
    {
        lock (_gate)
        {
            return [.. Enumerable.Range(1, MaxStreams).Where(n => _decode[n] > 0).Select(n => (n, _decode[n]))];
        }
    }

    /// <summary>Predicted time from sending a call with <paramref name="uncachedTokens"/> prompt tokens to read to its first token.</summary>
    public TimeSpan FirstTokenTime(double uncachedTokens)
    {
        lock (_gate)
        {
            return TimeSpan.FromSeconds(_overhead + _prefill.Seconds(uncachedTokens));
        }
    }

    /// <summary>
    /// Predicted time a call holds its slot: its first token, then <paramref name="outputTokens"/> at the decode rate of
    /// <paramref name="streams"/> streams (a typical call's when the arguments are null).
    /// </summary>
    public TimeSpan ServiceTime(double? uncachedTokens, double? outputTokens, int streams)
    {
        double prompt, output;
        lock (_gate)
        {
            prompt = uncachedTokens ?? _promptTokens;
            output = outputTokens ?? (_outputTokens > 0 ? _outputTokens : 256);
        }

        var rate = DecodeRate(streams);
        return FirstTokenTime(prompt) + (rate > 0 ? TimeSpan.FromSeconds(output / rate) : TimeSpan.Zero);
    }

    /// <summary>What one finished call showed (<see cref="BackendSample"/>).</summary>
    internal void Record(in BackendSample sample)
    {
        lock (_gate)
        {
            Volatile.Write(ref _lastCall, Stopwatch.GetTimestamp());
            var warm = ++_calls > WarmUpCalls;
            if (warm && sample.PromptSeconds > 0 && sample.PromptTokensRead > 0)
            {
                _prefill.Add(sample.PromptTokensRead, sample.PromptSeconds);
            }

            if (warm && sample.FirstEventSeconds > 0)
            {
                _overhead = Average(_overhead, Math.Max(0, sample.FirstEventSeconds - sample.PromptSeconds));
            }

            if (sample.DecodeSeconds > 0 && sample.DecodedTokens > 1)
            {
                var n = Math.Clamp(sample.Streams, 1, MaxStreams);
                _decode[n] = Average(_decode[n], sample.DecodedTokens / sample.DecodeSeconds);
            }

            if (sample.PromptTokens > 0)
            {
                _promptTokens = Average(_promptTokens, sample.PromptTokensRead);
                _cachedShare = _calls == 1 ? 1 - ((double)sample.PromptTokensRead / sample.PromptTokens)
                    : _cachedShare + (Weight * (1 - ((double)sample.PromptTokensRead / sample.PromptTokens) - _cachedShare));
                if (sample.PromptChars > 0)
                {
                    _charsPerToken = Average(_charsPerToken, (double)sample.PromptChars / sample.PromptTokens);
                }
            }

            if (sample.OutputTokens > 0)
            {
                _outputTokens = Average(_outputTokens, sample.OutputTokens);
            }
        }
    }

    private static double Average(double current, double sample) => current > 0 ? current + (Weight * (sample - current)) : sample;
}

/// <summary>
/// One finished call as <see cref="BackendSpeed"/> learns from it: the prompt tokens read (not cached) and how long
/// that took, the time from sending it to its first event, the tokens decoded after the first and how long that took
/// with how many streams running, its whole prompt in tokens and characters, and its output tokens.
/// </summary>
internal readonly record struct BackendSample(
    int PromptTokensRead, double PromptSeconds, double FirstEventSeconds, int DecodedTokens, double DecodeSeconds, int Streams,
    int PromptTokens, long PromptChars, int OutputTokens);
