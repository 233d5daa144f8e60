using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace LlmApp.Tests.Infrastructure;

/// <summary>The gateway's log lines, as the Aspire dashboard shows them.</summary>
public static class GatewayLogs
{
    /// <summary>The gateway's log lines, from its start until after <paramref name="act"/>, once <paramref name="until"/> holds for them.</summary>
    public static async Task<List<string>> WhileAsync(DistributedApplication app, Func<Task> act, Func<List<string>, bool> until)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(act);
        ArgumentNullException.ThrowIfNull(until);
        var logs = app.Services.GetRequiredService<ResourceLoggerService>();
        var gateway = app.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == "gateway");
        var lines = new List<string>();
        using var watching = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var watch = Task.Run(async () =>
        {
            // The watch replays what the gateway logged before it began, then follows.
            await foreach (var batch in logs.WatchAsync(gateway).WithCancellation(watching.Token))
            {
                lock (lines)
                {
                    lines.AddRange(batch.Select(l => l.Content));
                }
            }
        });

        // The first watcher makes the orchestrator start streaming the gateway's output, which takes a while on a busy
        // box: act once the replay of its start-up lines has begun, so that the wait below is for the lines asked for.
        await WaitAsync(replayed => replayed.Count > 0, "the gateway's earlier log lines were not replayed");
        await act();
        var seen = await WaitAsync(until, "the expected log lines did not arrive");
        await watching.CancelAsync();
        await watch.ContinueWith(_ => { }, TaskScheduler.Default);
        return seen;

        async Task<List<string>> WaitAsync(Func<List<string>, bool> condition, string failure)
        {
            // Long enough for a 2-core box running other test collections beside this one.
            var timeout = TimeSpan.FromSeconds(45);
            var deadline = DateTime.UtcNow + timeout;
            List<string> snapshot;
            while (!condition(snapshot = Snapshot()))
            {
                Assert.True(DateTime.UtcNow < deadline, $"{failure} in {timeout.TotalSeconds} s: {snapshot.Count} lines, the last: {snapshot.LastOrDefault()}");
                await Task.Delay(100);
            }

            return snapshot;
        }

        List<string> Snapshot()
        {
            lock (lines)
            {
                return [.. lines];
            }
        }
    }
}
