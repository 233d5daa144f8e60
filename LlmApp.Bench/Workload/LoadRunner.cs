using System.Diagnostics;

namespace LlmApp.Bench.Workload;

/// <summary>What one run of a workload against one target measured.</summary>
internal sealed record RunResult(string Target, LoadLevel Load, IReadOnlyList<RequestSample> Samples, TimeSpan Duration, TimeSpan? Cpu, int Resent);

/// <summary>
/// How a run sends its requests: <see cref="Concurrency"/> clients, each sending the next as soon as its last ends
/// (closed loop), or at <see cref="Rate"/> requests a second whatever the answers do (open loop, <c>--request-rate</c>).
/// </summary>
internal sealed record LoadLevel(int Concurrency, double? Rate = null)
{
    public override string ToString() => Rate is { } rate
        ? double.IsPositiveInfinity(rate) ? "all at once" : $"{rate.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)} req/s"
        : $"concurrency {Concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>
/// Sends a list of requests to a target: closed loop, <c>concurrency</c> at a time, each as soon as the one before ends;
/// or open loop, each at its time of <see cref="Arrivals"/>, however many are still unanswered.
/// </summary>
internal sealed class LoadRunner(ChatRequestSender sender)
{
    public async Task<RunResult> RunOpenAsync(Target target, IReadOnlyList<byte[]> bodies, bool stream, LoadLevel load, double burstiness, int seed,
        Action onDone, CancellationToken cancellationToken)
    {
        var schedule = Arrivals.Schedule(bodies.Count, load.Rate!.Value, burstiness, seed);
        var cpuBefore = target.Cpu?.Read();
        var resentBefore = sender.Resent;
        var start = Stopwatch.GetTimestamp();
        var sent = new Task<RequestSample>[bodies.Count];
        for (var i = 0; i < bodies.Count; i++)
        {
            var wait = TimeSpan.FromSeconds(schedule[i]) - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            sent[i] = SendAsync(bodies[i]);
        }

        var samples = await Task.WhenAll(sent);
        var duration = Stopwatch.GetElapsedTime(start);
        return new RunResult(target.Name, load, samples, duration, target.Cpu?.Read() - cpuBefore, sender.Resent - resentBefore);

        async Task<RequestSample> SendAsync(byte[] body)
        {
            var sample = await sender.SendAsync(target, body, stream, cancellationToken);
            onDone();
            return sample;
        }
    }

    public async Task<RunResult> RunAsync(Target target, IReadOnlyList<byte[]> bodies, bool stream, int concurrency, Action onDone,
        CancellationToken cancellationToken)
    {
        var samples = new RequestSample[bodies.Count];
        var next = -1;
        var cpuBefore = target.Cpu?.Read();
        var resentBefore = sender.Resent;
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < bodies.Count)
            {
                samples[index] = await sender.SendAsync(target, bodies[index], stream, cancellationToken);
                onDone();
            }
        }));

        var duration = Stopwatch.GetElapsedTime(start);
        return new RunResult(target.Name, new LoadLevel(concurrency), samples, duration, target.Cpu?.Read() - cpuBefore, sender.Resent - resentBefore);
    }
}
