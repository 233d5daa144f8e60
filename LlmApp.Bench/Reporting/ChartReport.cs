using ScottPlot;

namespace LlmApp.Bench.Reporting;

/// <summary>
/// A PNG of the run for each target, grouped by concurrency or request rate: TTFT p50 and output tok/s; for an open
/// loop, TTFT p99 and goodput instead, with the requests turned away.
/// </summary>
internal static class ChartReport
{
    public static void Write(BenchReport report, string path)
    {
        var targets = report.Results.Select(r => r.Target).Distinct().ToList();
        var levels = report.Results.Select(r => r.Load).Distinct().OrderBy(l => l.Rate ?? 0).ThenBy(l => l.Concurrency).ToList();
        var multiplot = new Multiplot();
        if (levels.Any(l => l.Rate is not null))
        {
            multiplot.AddPlots(3);
            Draw(multiplot.GetPlot(0), "Goodput (requests a second meeting every objective)", r => r.RequestGoodput);
            Draw(multiplot.GetPlot(1), "Time to first token of answered requests, p99 (ms)", r => r.P99TtftMs);
            Draw(multiplot.GetPlot(2), "Requests turned away (429)", r => r.Refused);
            multiplot.SavePng(path, 1000, 1200);
        }
        else
        {
            multiplot.AddPlots(2);
            Draw(multiplot.GetPlot(0), "Time to first token, p50 (ms)", r => r.P50TtftMs);
            Draw(multiplot.GetPlot(1), "Output tokens per second (median of rounds)", r => r.OutputThroughput);
            multiplot.SavePng(path, 1000, 800);
        }

        void Draw(Plot plot, string title, Func<RunSummary, double> value)
        {
            var palette = new ScottPlot.Palettes.Category10();
            var bars = new List<Bar>();
            for (var l = 0; l < levels.Count; l++)
            {
                for (var t = 0; t < targets.Count; t++)
                {
                    var result = report.Results.FirstOrDefault(r => r.Load == levels[l] && r.Target == targets[t]);
                    if (result is not null)
                    {
                        bars.Add(new Bar { Position = (l * (targets.Count + 1)) + t, Value = value(result), FillColor = palette.GetColor(t) });
                    }
                }
            }

            plot.Add.Bars(bars);
            plot.Title(title);
            plot.Axes.Bottom.SetTicks(
                [.. levels.Select((_, l) => (l * (targets.Count + 1)) + ((targets.Count - 1) / 2.0))],
                [.. levels.Select(level => level.ToString())]);
            plot.Axes.Margins(bottom: 0);
            for (var t = 0; t < targets.Count; t++)
            {
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = targets[t], FillColor = palette.GetColor(t) });
            }

            plot.ShowLegend(Alignment.UpperRight);
        }
    }
}
