namespace LlmApp.Bench.Measurement;

/// <summary>Mean, median, standard deviation and percentiles of a sample, as vLLM's <c>bench serve</c> reports them.</summary>
internal sealed record Distribution(double Mean, double Median, double Std, double P50, double P90, double P99)
{
    public static Distribution Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            return new Distribution(0, 0, 0, 0, 0, 0);
        }

        var sorted = values.Order().ToArray();
        var mean = sorted.Average();
        var std = Math.Sqrt(sorted.Sum(v => (v - mean) * (v - mean)) / sorted.Length);
        return new Distribution(mean, Percentile(sorted, 50), std, Percentile(sorted, 50), Percentile(sorted, 90), Percentile(sorted, 99));
    }

    /// <summary>Linear interpolation between closest ranks, as numpy's default.</summary>
    private static double Percentile(double[] sorted, double percent)
    {
        var rank = percent / 100 * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + ((sorted[high] - sorted[low]) * (rank - low));
    }
}
