using ScottPlot;

namespace LlmApp.Bench.Reporting;

/// <summary>A PNG of the run: TTFT p50 and output tok/s for each target, grouped by concurrency.</summary>
internal static class ChartReport
{
    public static void Write(BenchReport report, string path)
    {
        var targets = report.Results.Select(r => r.Target).Distinct().ToList();
        var levels = report.Results.Select(r => r.MaxConcurrency).Distinct().Order().ToList();
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        Draw(multiplot.GetPlot(0), "Time to first token, p50 (ms)", r => r.P50TtftMs);
        Draw(multiplot.GetPlot(1), "Output tokens per second (median of rounds)", r => r.OutputThroughput);
        multiplot.SavePng(path, 1000, 800);

        void Draw(Plot plot, string title, Func<RunSummary, double> value)
        {
            var palette = new ScottPlot.Palettes.Category10();
            var bars = new List<Bar>();
            for (var l = 0; l < levels.Count; l++)
            {
                for (var t = 0; t < targets.Count; t++)
                {
                    var result = report.Results.FirstOrDefault(r => r.MaxConcurrency == levels[l] && r.Target == targets[t]);
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
                [.. levels.Select(level => $"concurrency {level}")]);
            plot.Axes.Margins(bottom: 0);
            for (var t = 0; t < targets.Count; t++)
            {
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = targets[t], FillColor = palette.GetColor(t) });
            }

            plot.ShowLegend(Alignment.UpperRight);
        }
    }
}
