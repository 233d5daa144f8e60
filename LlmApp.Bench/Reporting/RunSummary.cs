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
    public required int NumPrompts { get; init; }
    public required double Duration { get; init; }
    public required int Completed { get; init; }
    public required int Failed { get; init; }
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

    public static RunSummary Of(string model, IReadOnlyList<RunResult> rounds, Slo slo)
    {
        var samples = rounds.SelectMany(r => r.Samples).ToList();
        var ok = samples.Where(s => s.Ok).ToList();
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
            MaxConcurrency = rounds[0].Concurrency,
            NumPrompts = samples.Count,
            Duration = duration,
            Completed = ok.Count,
            Failed = samples.Count - ok.Count,
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
            Errors = [.. samples.Where(s => !s.Ok).Select(s => s.Error!).Distinct().Take(5)],
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

/// <summary>The service-level objective goodput counts against: first token within a time, then a decode speed.</summary>
internal sealed record Slo(double TimeToFirstTokenMs, double TokensPerSecond)
{
    public bool IsMetBy(RequestSample sample) =>
        sample.Ok && sample.TimeToFirstTokenMs <= TimeToFirstTokenMs &&
        (sample.TimePerOutputTokenMs is not { } tpot || 1000 / tpot >= TokensPerSecond);
}
