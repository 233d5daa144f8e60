using System.Globalization;
using System.Text.Json.Serialization;
using LlmApp.Bench.Measurement;
using LlmApp.Bench.Workload;
using Spectre.Console;

namespace LlmApp.Bench.Reporting;

/// <summary>The multi-turn workload's figures for one target: how much of each follow-up's prompt came from the cache.</summary>
internal sealed record ConversationSummary(
    string Target,
    int Completed,
    int Failed,
    double FirstTurnTtftP50Ms,
    double FollowUpTtftP50Ms,
    double FollowUpTtftP95Ms,
    long FollowUpCachedTokens,
    long FollowUpReusablePrefixTokens,
    double CacheHitRatio,
    double OutputThroughput,
    double? CpuUsPerOutputToken,
    IReadOnlyList<string> Errors);

internal sealed record ConversationReport(
    DateTimeOffset Date,
    string ModelId,
    int Conversations,
    int Turns,
    int SystemTokens,
    int TurnTokens,
    bool TokensMeasured,
    IReadOnlyList<ConversationSummary> Results)
{
    public static ConversationReport Of(string model, ConversationSettings settings, PromptSet system, PromptSet user, IReadOnlyList<ConversationResult> results) =>
        new(DateTimeOffset.UtcNow, model, settings.Conversations, settings.Turns, system.TokensEach, user.TokensEach, system.Measured && user.Measured,
            [.. results.Select(Summarize)]);

    private static ConversationSummary Summarize(ConversationResult result)
    {
        var ok = result.Turns.Where(t => t.Sample.Ok).ToList();
        var firsts = ok.Where(t => t.Turn == 0).Select(t => t.Sample.TimeToFirstTokenMs).ToList();
        var followUps = ok.Where(t => t.Turn > 0).ToList();
        var followUpTtft = followUps.Select(t => t.Sample.TimeToFirstTokenMs).Order().ToArray();
        var cached = followUps.Sum(t => (long)(t.Sample.CachedTokens ?? 0));
        var reusable = followUps.Sum(t => (long)t.ReusablePrefixTokens);
        var output = ok.Sum(t => (long)t.Sample.OutputTokens);
        return new ConversationSummary(
            result.Target, ok.Count, result.Turns.Count - ok.Count,
            Distribution.Of(firsts).P50,
            Distribution.Of(followUpTtft).P50,
            followUpTtft.Length == 0 ? 0 : followUpTtft[(int)Math.Min(followUpTtft.Length - 1, Math.Ceiling(0.95 * followUpTtft.Length) - 1)],
            cached, reusable, reusable == 0 ? 0 : (double)cached / reusable,
            output / result.Duration.TotalSeconds,
            result.Cpu is { } cpu && output > 0 ? cpu.TotalMicroseconds / output : null,
            [.. result.Turns.Where(t => !t.Sample.Ok).Select(t => t.Sample.Error!).Distinct().Take(5)]);
    }

    public static void Write(IAnsiConsole console, ConversationReport report)
    {
        console.WriteLine();
        console.WriteLine($"Model {report.ModelId}; {report.Conversations} conversations of {report.Turns} turns, system prompts of {report.SystemTokens} tokens, " +
                          $"{report.TurnTokens} tokens a turn{(report.TokensMeasured ? "" : " (estimated)")}.");
        var table = new Table().Border(TableBorder.Markdown);
        foreach (var column in new[]
                 {
                     "target", "turns ok", "failed", "first turn TTFT p50 ms", "follow-up TTFT p50 / p95 ms", "cached / reusable prefix tokens", "cache hit",
                     "out tok/s", "CPU µs/token",
                 })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (var r in report.Results)
        {
            table.AddRow(Markup.Escape(r.Target), N(r.Completed), N(r.Failed), F(r.FirstTurnTtftP50Ms, "0"),
                $"{F(r.FollowUpTtftP50Ms, "0")} / {F(r.FollowUpTtftP95Ms, "0")}", $"{N(r.FollowUpCachedTokens)} / {N(r.FollowUpReusablePrefixTokens)}",
                F(r.CacheHitRatio * 100, "0.0") + " %", F(r.OutputThroughput, "0.0"), r.CpuUsPerOutputToken is { } cpu ? F(cpu, "0.0") : "-");
        }

        console.Write(table);
        foreach (var failed in report.Results.Where(r => r.Failed > 0))
        {
            console.MarkupLine($"[red]{Markup.Escape(failed.Target)}: {failed.Failed} turns failed: {Markup.Escape(string.Join("; ", failed.Errors))}[/]");
        }
    }

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(ConversationReport))]
internal sealed partial class ConversationJsonContext : JsonSerializerContext;
