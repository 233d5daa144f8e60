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
        using var watching = new CancellationTokenSource(TimeSpan.FromSeconds(30));
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

        await act();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        List<string> seen;
        while (!until(seen = Snapshot()))
        {
            Assert.True(DateTime.UtcNow < deadline, "the expected log lines did not arrive");
            await Task.Delay(100);
        }

        await watching.CancelAsync();
        await watch.ContinueWith(_ => { }, TaskScheduler.Default);
        return seen;

        List<string> Snapshot()
        {
            lock (lines)
            {
                return [.. lines];
            }
        }
    }
}
