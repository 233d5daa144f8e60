using System.Diagnostics;

namespace LlmApp.Bench.Workload;

/// <summary>What one run of a workload against one target measured.</summary>
internal sealed record RunResult(string Target, int Concurrency, IReadOnlyList<RequestSample> Samples, TimeSpan Duration, TimeSpan? Cpu, int Resent);

/// <summary>Sends a list of requests to a target, <c>concurrency</c> at a time, as soon as the one before ends.</summary>
internal sealed class LoadRunner(ChatRequestSender sender)
{
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
                samples[index] = await sender.SendAsync(target.ChatCompletions, bodies[index], stream, cancellationToken);
                onDone();
            }
        }));

        var duration = Stopwatch.GetElapsedTime(start);
        return new RunResult(target.Name, concurrency, samples, duration, target.Cpu?.Read() - cpuBefore, sender.Resent - resentBefore);
    }
}
