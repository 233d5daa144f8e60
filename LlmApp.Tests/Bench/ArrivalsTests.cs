using LlmApp.Bench.Workload;

namespace LlmApp.Tests.Bench;

/// <summary>The open loop's arrival times: their mean rate, their spread by burstiness, and the same times for the same seed.</summary>
public sealed class ArrivalsTests
{
    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    [InlineData(4.0)]
    public void ArrivalsComeAtTheRateWhateverTheirBurstiness(double burstiness)
    {
        var times = Arrivals.Schedule(20_000, rate: 10, burstiness, seed: 7);

        // 20,000 intervals of mean 0.1 s: their mean within 3% of it.
        Assert.InRange(times[^1] / times.Length, 0.097, 0.103);
        Assert.True(times.Zip(times.Skip(1)).All(pair => pair.First <= pair.Second));
    }

    [Fact]
    public void LowerBurstinessSpreadsTheIntervalsMore()
    {
        // A gamma of shape k has a coefficient of variation of 1 / sqrt(k): 1.41 at 0.5, 1 for Poisson, 0.5 at 4.
        Assert.InRange(Variation(Arrivals.Schedule(20_000, 10, 0.5, 1)), 1.30, 1.52);
        Assert.InRange(Variation(Arrivals.Schedule(20_000, 10, 1.0, 1)), 0.95, 1.05);
        Assert.InRange(Variation(Arrivals.Schedule(20_000, 10, 4.0, 1)), 0.47, 0.53);
    }

    [Fact]
    public void TheSameSeedSendsAtTheSameTimesAndAnInfiniteRateAllAtOnce()
    {
        Assert.Equal(Arrivals.Schedule(50, 3, 1, 42), Arrivals.Schedule(50, 3, 1, 42));
        Assert.NotEqual(Arrivals.Schedule(50, 3, 1, 42), Arrivals.Schedule(50, 3, 1, 43));
        Assert.All(Arrivals.Schedule(50, double.PositiveInfinity, 1, 42), time => Assert.Equal(0, time));
    }

    private static double Variation(double[] times)
    {
        var intervals = times.Zip(times.Skip(1), (a, b) => b - a).ToArray();
        var mean = intervals.Average();
        return Math.Sqrt(intervals.Average(i => (i - mean) * (i - mean))) / mean;
    }
}
