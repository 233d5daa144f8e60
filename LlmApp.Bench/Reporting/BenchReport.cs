using System.Text.Json.Serialization;
using LlmApp.Bench.Workload;

namespace LlmApp.Bench.Reporting;

/// <summary>Everything one invocation measured, as written to <c>--json</c>.</summary>
internal sealed record BenchReport(
    DateTimeOffset Date,
    string ModelId,
    int InputTokensPerPrompt,
    bool InputTokensMeasured,
    TokenCount InputTokensCountedBy,
    int OutputTokensPerPrompt,
    bool Stream,
    Slo Slo,
    IReadOnlyList<RunSummary> Results,
    IReadOnlyList<Comparison> Comparisons);

/// <summary>A target against the baseline (the first <c>--compare</c> target) at one concurrency or request rate: above 1 means more.</summary>
internal sealed record Comparison(
    int MaxConcurrency,
    double? RequestRate,
    string Target,
    string Baseline,
    double TtftP50Ratio,
    double OutputThroughputRatio,
    double ItlP50Ratio,
    double? CpuPerOutputTokenRatio,
    double? CpuUsPerOutputTokenDifference);

// An open loop at an infinite rate (all at once) is written "Infinity", as vLLM writes "inf".
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(BenchReport))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
