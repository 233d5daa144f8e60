using LlmApp.Bench.Measurement;
using LlmApp.Bench.Workload;

namespace LlmApp.Bench.Reporting;

/// <summary>
/// One target at one concurrency, over all its rounds. The field names are vLLM's <c>bench serve</c> result's
/// (snake_case in JSON: <c>mean_ttft_ms</c>, <c>output_throughput</c>, ...), so its tooling reads them; the CPU fields
/// and <c>rounds</c> are LlmApp's. Latency figures pool every round's requests; throughput and CPU are the median of
/// the rounds.
/// </summary>
internal sealed record RunSummary
{
    public required string Target { get; init; }
    public required string ModelId { get; init; }
    public required int MaxConcurrency { get; init; }

    /// <summary>Requests a second of an open-loop run (<c>--request-rate</c>); null for a closed-loop one.</summary>
    public double? RequestRate { get; init; }

    /// <summary>The open-loop arrivals' burstiness (1: Poisson).</summary>
    public double? Burstiness { get; init; }

    public required int NumPrompts { get; init; }
    public required double Duration { get; init; }
    public required int Completed { get; init; }

    /// <summary>Requests that failed: not answered, and not turned away for overload either.</summary>
    public required int Failed { get; init; }

    /// <summary>Requests the server turned away for overload (429) instead of answering; a 503 (a backend down) is a failure.</summary>
    public int Refused { get; init; }

    /// <summary>How long a refusal took to come: its p50 and p99, in ms (0 without refusals).</summary>
    public double P50RefusalMs { get; init; }

    public double P99RefusalMs { get; init; }
    public required long TotalInputTokens { get; init; }
    public required long TotalOutputTokens { get; init; }
    public required double RequestThroughput { get; init; }
    public required double RequestGoodput { get; init; }
    public required double OutputThroughput { get; init; }
    public required double TotalTokenThroughput { get; init; }
    public required double MeanTtftMs { get; init; }
    public required double MedianTtftMs { get; init; }
    public required double StdTtftMs { get; init; }
    public required double P50TtftMs { get; init; }
    public required double P90TtftMs { get; init; }
    public required double P99TtftMs { get; init; }
    public required double MeanTpotMs { get; init; }
    public required double MedianTpotMs { get; init; }
    public required double StdTpotMs { get; init; }
    public required double P50TpotMs { get; init; }
    public required double P90TpotMs { get; init; }
    public required double P99TpotMs { get; init; }
    public required double MeanItlMs { get; init; }
    public required double MedianItlMs { get; init; }
    public required double StdItlMs { get; init; }
    public required double P50ItlMs { get; init; }
    public required double P90ItlMs { get; init; }
    public required double P99ItlMs { get; init; }
    public required double MeanE2elMs { get; init; }
    public required double MedianE2elMs { get; init; }
    public required double StdE2elMs { get; init; }
    public required double P50E2elMs { get; init; }
    public required double P90E2elMs { get; init; }
    public required double P99E2elMs { get; init; }

    /// <summary>CPU time of the target's processes per output token, in µs (median of the rounds); null without <c>--pid</c>.</summary>
    public double? CpuUsPerOutputToken { get; init; }

    /// <summary>CPU time of the target's processes per request, in µs (median of the rounds).</summary>
    public double? CpuUsPerRequest { get; init; }

    public int Rounds { get; init; }

    /// <summary>Requests sent again on a new connection because the server had closed the one they went out on (llama-server does after a stream).</summary>
    public int Resent { get; init; }

    /// <summary>Each round's output tok/s, for the spread behind the median.</summary>
    public required IReadOnlyList<double> RoundOutputThroughputs { get; init; }

    /// <summary>The first few distinct errors, when requests failed.</summary>
    public required IReadOnlyList<string> Errors { get; init; }

    /// <summary>How the run sent its requests, as the tables say it.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public LoadLevel Load => new(MaxConcurrency, RequestRate);

    public static RunSummary Of(string model, IReadOnlyList<RunResult> rounds, Slo slo, double? burstiness = null)
    {
        var samples = rounds.SelectMany(r => r.Samples).ToList();
        var ok = samples.Where(s => s.Ok).ToList();
        var refusals = Distribution.Of([.. samples.Where(s => s.Refused).Select(s => s.EndToEndMs)]);
        var duration = rounds.Sum(r => r.Duration.TotalSeconds);
        var input = ok.Sum(s => (long)(s.PromptTokens ?? 0));
        var output = ok.Sum(s => (long)s.OutputTokens);
        var ttft = Distribution.Of([.. ok.Select(s => s.TimeToFirstTokenMs)]);
        var tpot = Distribution.Of([.. ok.Where(s => s.TimePerOutputTokenMs is not null).Select(s => s.TimePerOutputTokenMs!.Value)]);
        var itl = Distribution.Of([.. ok.SelectMany(s => s.InterTokenLatenciesMs)]);
        var e2el = Distribution.Of([.. ok.Select(s => s.EndToEndMs)]);
        var good = ok.Count(slo.IsMetBy);
        return new RunSummary
        {
            Target = rounds[0].Target,
            ModelId = model,
            MaxConcurrency = rounds[0].Load.Concurrency,
            RequestRate = rounds[0].Load.Rate,
            Burstiness = rounds[0].Load.Rate is null ? null : burstiness,
            NumPrompts = samples.Count,
            Duration = duration,
            Completed = ok.Count,
            Failed = samples.Count(s => !s.Ok && !s.Refused),
            Refused = samples.Count(s => s.Refused),
            P50RefusalMs = refusals.P50,
            P99RefusalMs = refusals.P99,
            TotalInputTokens = input,
            TotalOutputTokens = output,
            RequestThroughput = ok.Count / duration,
            RequestGoodput = good / duration,
            OutputThroughput = Median(rounds.Select(r => r.Samples.Where(s => s.Ok).Sum(s => (double)s.OutputTokens) / r.Duration.TotalSeconds)),
            TotalTokenThroughput = (input + output) / duration,
            MeanTtftMs = ttft.Mean, MedianTtftMs = ttft.Median, StdTtftMs = ttft.Std, P50TtftMs = ttft.P50, P90TtftMs = ttft.P90, P99TtftMs = ttft.P99,
            MeanTpotMs = tpot.Mean, MedianTpotMs = tpot.Median, StdTpotMs = tpot.Std, P50TpotMs = tpot.P50, P90TpotMs = tpot.P90, P99TpotMs = tpot.P99,
            MeanItlMs = itl.Mean, MedianItlMs = itl.Median, StdItlMs = itl.Std, P50ItlMs = itl.P50, P90ItlMs = itl.P90, P99ItlMs = itl.P99,
            MeanE2elMs = e2el.Mean, MedianE2elMs = e2el.Median, StdE2elMs = e2el.Std, P50E2elMs = e2el.P50, P90E2elMs = e2el.P90, P99E2elMs = e2el.P99,
            CpuUsPerOutputToken = PerRound(rounds, r => r.Samples.Where(s => s.Ok).Sum(s => s.OutputTokens)),
            CpuUsPerRequest = PerRound(rounds, r => r.Samples.Count(s => s.Ok)),
            Rounds = rounds.Count,
            Resent = rounds.Sum(r => r.Resent),
            RoundOutputThroughputs = [.. rounds.Select(r => r.Samples.Where(s => s.Ok).Sum(s => (double)s.OutputTokens) / r.Duration.TotalSeconds)],
            Errors = [.. samples.Where(s => !s.Ok && !s.Refused).Select(s => s.Error!).Distinct().Take(5)],
        };
    }

    private static double? PerRound(IReadOnlyList<RunResult> rounds, Func<RunResult, int> count) =>
        rounds.Any(r => r.Cpu is null) ? null
        : Median(rounds.Select(r => count(r) == 0 ? 0 : r.Cpu!.Value.TotalMicroseconds / count(r)));

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>
/// What goodput counts against, as vLLM's <c>bench serve --goodput ttft:300 tpot:33</c> means it: a request is good
/// when it was answered and each objective given (time to first token, time per output token, end-to-end latency, in
/// ms) holds for it; goodput is good requests a second.
/// </summary>
internal sealed record Slo(double? TtftMs, double? TpotMs, double? E2elMs = null)
{
    /// <summary>Reads <c>ttft:300 tpot:33 e2el:2000</c>; a wrong pair is a <see cref="FormatException"/> naming it.</summary>
    public static Slo Parse(IEnumerable<string> pairs)
    {
        double? ttft = null, tpot = null, e2el = null;
        foreach (var pair in pairs.SelectMany(p => p.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)))
        {
            var parts = pair.Split(':', 2);
            if (parts.Length != 2 || !double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var ms)
                || ms <= 0)
            {
                throw new FormatException($"--goodput takes name:milliseconds pairs (ttft:300 tpot:33 e2el:2000); '{pair}' is not one.");
            }

            switch (parts[0])
            {
                case "ttft":
                    ttft = ms;
                    break;
                case "tpot":
                    tpot = ms;
                    break;
                case "e2el":
                    e2el = ms;
                    break;
                default:
                    throw new FormatException($"--goodput knows ttft, tpot and e2el; '{parts[0]}' is none of them.");
            }
        }

        return new Slo(ttft, tpot, e2el);
    }

    public bool IsMetBy(RequestSample sample) =>
        sample.Ok
        && (TtftMs is not { } ttft || sample.TimeToFirstTokenMs <= ttft)
        && (TpotMs is not { } tpot || sample.TimePerOutputTokenMs is not { } measured || measured <= tpot)
        && (E2elMs is not { } e2el || sample.EndToEndMs <= e2el);

    public override string ToString()
    {
        var parts = new List<string>();
        if (TtftMs is { } ttft)
        {
            parts.Add($"TTFT ≤ {ttft.ToString(System.Globalization.CultureInfo.InvariantCulture)} ms");
        }

        if (TpotMs is { } tpot)
        {
            parts.Add($"TPOT ≤ {tpot.ToString(System.Globalization.CultureInfo.InvariantCulture)} ms");
        }

        if (E2elMs is { } e2el)
        {
            parts.Add($"E2E ≤ {e2el.ToString(System.Globalization.CultureInfo.InvariantCulture)} ms");
        }

        return parts.Count == 0 ? "every answered request" : string.Join(", ", parts);
    }
}
