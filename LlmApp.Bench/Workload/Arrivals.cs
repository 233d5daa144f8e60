namespace LlmApp.Bench.Workload;

/// <summary>
/// When an open-loop run sends its requests, as vLLM's <c>bench serve</c> does: intervals drawn from a gamma distribution
/// with mean 1 / rate and shape <c>burstiness</c> (1 is a Poisson process; below 1 burstier, above 1 more even), from a
/// seeded generator so that a run can be repeated exactly. An infinite rate sends everything at once.
/// </summary>
internal static class Arrivals
{
    /// <summary>Seconds from the run's start at which each of <paramref name="count"/> requests is sent.</summary>
    public static double[] Schedule(int count, double rate, double burstiness, int seed)
    {
        var times = new double[count];
        if (double.IsPositiveInfinity(rate))
        {
            return times;
        }

        var random = new Random(seed);
        var scale = 1 / (rate * burstiness);
        var at = 0.0;
        for (var i = 0; i < count; i++)
        {
            at += Gamma(random, burstiness) * scale;
            times[i] = at;
        }

        return times;
    }

    /// <summary>A gamma(shape, 1) draw: Marsaglia and Tsang's method, boosted for a shape under 1.</summary>
    private static double Gamma(Random random, double shape)
    {
        if (shape < 1)
        {
            return Gamma(random, shape + 1) * Math.Pow(random.NextDouble(), 1 / shape);
        }

        var d = shape - (1.0 / 3);
        var c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = Normal(random);
                v = 1 + (c * x);
            }
            while (v <= 0);

            v = v * v * v;
            var u = random.NextDouble();
            if (u < 1 - (0.0331 * x * x * x * x) || Math.Log(u) < (0.5 * x * x) + (d * (1 - v + Math.Log(v))))
            {
                return d * v;
            }
        }
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
