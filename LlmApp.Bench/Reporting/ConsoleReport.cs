using System.Globalization;
using LlmApp.Bench.Measurement;
using LlmApp.Bench.Workload;
using Spectre.Console;

namespace LlmApp.Bench.Reporting;

/// <summary>The report on the console, as Markdown tables (they paste into docs as they are).</summary>
internal static class ConsoleReport
{
    public static void Write(IAnsiConsole console, BenchReport report)
    {
        console.WriteLine();
        console.WriteLine($"Model {report.ModelId}; prompts of {report.InputTokensPerPrompt} tokens" +
                          $"{CountedBy(report.InputTokensCountedBy)}, {report.OutputTokensPerPrompt} output tokens, " +
                          $"{(report.Stream ? "streamed" : "not streamed")}; goodput: {report.Slo}.");
        var openLoop = report.Results.Any(r => r.RequestRate is not null);
        var table = new Table().Border(TableBorder.Markdown);
        foreach (var column in new[]
                 {
                     "target", openLoop ? "req/s sent" : "conc.", "ok", "failed", "429", "429 p50/p99 ms", "TTFT p50/p90/p99 ms",
                     "TPOT p50/p90/p99 ms", "ITL p50/p90/p99 ms", "E2E p50/p90/p99 ms", "out tok/s", "req/s", "goodput req/s", "CPU µs/token",
                     "CPU µs/request",
                 })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (var r in report.Results)
        {
            table.AddRow(
                Markup.Escape(r.Target), Level(r), N(r.Completed), N(r.Failed), N(r.Refused),
                r.Refused == 0 ? "-" : $"{F(r.P50RefusalMs, "0.0")} / {F(r.P99RefusalMs, "0.0")}",
                Triple(r.P50TtftMs, r.P90TtftMs, r.P99TtftMs), Triple(r.P50TpotMs, r.P90TpotMs, r.P99TpotMs),
                Triple(r.P50ItlMs, r.P90ItlMs, r.P99ItlMs), Triple(r.P50E2elMs, r.P90E2elMs, r.P99E2elMs),
                F(r.OutputThroughput, "0"), F(r.RequestThroughput, "0.00"), F(r.RequestGoodput, "0.00"),
                r.CpuUsPerOutputToken is { } perToken ? F(perToken, "0.0") : "-",
                r.CpuUsPerRequest is { } perRequest ? F(perRequest, "0") : "-");
        }

        console.Write(table);
        if (report.Results.Any(r => r.CpuUsPerOutputToken is not null))
        {
            console.WriteLine($"CPU time: {ProcessCpu.Clock}.");
        }

        if (report.Comparisons.Count > 0)
        {
            var ratios = new Table().Border(TableBorder.Markdown);
            foreach (var column in new[] { openLoop ? "req/s sent" : "conc.", "target / baseline", "TTFT p50", "ITL p50", "out tok/s", "CPU/token", "CPU/token Δ µs" })
            {
                ratios.AddColumn(new TableColumn(column).RightAligned());
            }

            foreach (var c in report.Comparisons)
            {
                ratios.AddRow(c.RequestRate is { } rate ? Rate(rate) : N(c.MaxConcurrency), Markup.Escape($"{c.Target} / {c.Baseline}"), F(c.TtftP50Ratio, "0.00×"), F(c.ItlP50Ratio, "0.00×"),
                    F(c.OutputThroughputRatio, "0.000×"), c.CpuPerOutputTokenRatio is { } cpu ? F(cpu, "0.00×") : "-",
                    c.CpuUsPerOutputTokenDifference is { } delta ? F(delta, "+0.0;-0.0") : "-");
            }

            console.WriteLine();
            console.Write(ratios);
        }

        foreach (var resent in report.Results.Where(r => r.Resent > 0))
        {
            console.WriteLine($"{resent.Target} at {resent.Load}: {N(resent.Resent)} request{(resent.Resent == 1 ? "" : "s")} " +
                "sent again, on a new connection: the server had closed the kept-alive one it went out on.");
        }

        foreach (var failed in report.Results.Where(r => r.Failed > 0))
        {
            console.MarkupLine($"[red]{Markup.Escape(failed.Target)} at {failed.Load}: {failed.Failed} of {failed.NumPrompts} requests failed[/]");
            foreach (var error in failed.Errors)
            {
                console.MarkupLine($"[red]  {Markup.Escape(error)}[/]");
            }
        }
    }

    private static string Level(RunSummary result) => result.RequestRate is { } rate ? Rate(rate) : N(result.MaxConcurrency);

    private static string Rate(double rate) => double.IsPositiveInfinity(rate) ? "inf" : F(rate, "0.###");

    private static string Triple(double p50, double p90, double p99) => $"{F(p50, "0.0")} / {F(p90, "0.0")} / {F(p99, "0.0")}";

    private static string CountedBy(TokenCount count) => count switch
    {
        TokenCount.Tokenize => "",
        TokenCount.Usage => " (counted by the server's usage, less its chat template)",
        _ => " (estimated)",
    };

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
