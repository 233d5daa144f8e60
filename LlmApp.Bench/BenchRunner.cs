using System.Text.Json;
using LlmApp.Bench.Reporting;
using LlmApp.Bench.Workload;
using Spectre.Console;

namespace LlmApp.Bench;

/// <summary>Runs what the settings ask for, reports it, and says with the exit code whether every request succeeded.</summary>
internal sealed class BenchRunner(BenchSettings settings, IAnsiConsole console)
{
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, UseProxy = false })
        {
            Timeout = settings.RequestTimeout,
        };
        if (settings.ApiKey is { Length: > 0 } key)
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", key);
        }

        var model = settings.Model ?? await ModelDiscovery.FirstModelAsync(http, settings.Targets[0], cancellationToken);

        var counter = await TokenCounter.FindAsync(http, settings.Targets, model, cancellationToken);
        var sender = new ChatRequestSender(http, Math.Max(settings.Concurrency.Max(), settings.Conversations?.Conversations ?? 0));
        if (settings.Conversations is { } conversations)
        {
            var system = await PromptFactory.CreateAsync(conversations.SystemTokens, counter, cancellationToken);
            var user = await PromptFactory.CreateAsync(conversations.TurnTokens, counter, cancellationToken);
            return await RunConversationsAsync(sender, model, system, user, cancellationToken);
        }

        var promptSet = await PromptFactory.CreateAsync(settings.PromptTokens, counter, cancellationToken);
        var report = await RunLoadAsync(sender, model, promptSet, cancellationToken);
        ConsoleReport.Write(console, report);
        await SaveAsync(report);
        return report.Results.Any(r => r.Failed > 0) ? 1 : 0;
    }

    private async Task<BenchReport> RunLoadAsync(ChatRequestSender sender, string model, PromptSet prompts, CancellationToken cancellationToken)
    {
        var runner = new LoadRunner(sender);
        var next = 0;
        List<byte[]> Bodies(Target target, int count) =>
            [.. Enumerable.Range(0, count).Select(_ => ApiDialect.Body(target.Api, model, [("user", prompts[next++])], settings.OutputTokens, settings.Stream,
                settings.Temperature, settings.IgnoreEos))];

        var rounds = new Dictionary<(string Target, LoadLevel Load), List<RunResult>>();
        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async progress =>
            {
                foreach (var target in settings.Targets.Where(_ => settings.Warmup > 0))
                {
                    var warmup = progress.AddTask($"warm-up {target.Name}", maxValue: settings.Warmup);
                    await runner.RunAsync(target, Bodies(target, settings.Warmup), settings.Stream, Math.Min(settings.Warmup, settings.Concurrency.Max()),
                        () => warmup.Increment(1), cancellationToken);
                }

                foreach (var load in settings.Levels)
                {
                    var count = settings.RequestsAt(load);
                    var task = progress.AddTask(load.ToString(), maxValue: count * settings.Rounds * settings.Targets.Count);
                    for (var round = 0; round < settings.Rounds; round++)
                    {
                        // Interleaved, and each round starts with the next target, so that no target always runs first. An
                        // open loop sends each target the same arrivals in a round, and other arrivals the next round.
                        for (var i = 0; i < settings.Targets.Count; i++)
                        {
                            var target = settings.Targets[(round + i) % settings.Targets.Count];
                            var result = load.Rate is null
                                ? await runner.RunAsync(target, Bodies(target, count), settings.Stream, load.Concurrency, () => task.Increment(1), cancellationToken)
                                : await runner.RunOpenAsync(target, Bodies(target, count), settings.Stream, load, settings.Burstiness, settings.Seed + round,
                                    () => task.Increment(1), cancellationToken);
                            rounds.TryAdd((target.Name, load), []);
                            rounds[(target.Name, load)].Add(result);
                        }
                    }
                }
            });

        var results = settings.Levels
            .SelectMany(load => settings.Targets.Select(t => RunSummary.Of(model, rounds[(t.Name, load)], settings.Slo, settings.Burstiness)))
            .ToList();
        return new BenchReport(DateTimeOffset.UtcNow, model, prompts.TokensEach, prompts.Measured, prompts.CountedBy, settings.OutputTokens, settings.Stream, settings.Slo,
            results, Compare(results));
    }

    /// <summary>Each target against the first, at each concurrency.</summary>
    private List<Comparison> Compare(List<RunSummary> results)
    {
        var baseline = settings.Targets[0].Name;
        return
        [
            .. from load in settings.Levels
            let b = results.Single(r => r.Target == baseline && r.Load == load)
            from r in results.Where(r => r.Target != baseline && r.Load == load)
            select new Comparison(load.Concurrency, load.Rate, r.Target, baseline, Ratio(r.P50TtftMs, b.P50TtftMs), Ratio(r.OutputThroughput, b.OutputThroughput),
                Ratio(r.P50ItlMs, b.P50ItlMs),
                r.CpuUsPerOutputToken is { } cpu && b.CpuUsPerOutputToken is { } baseCpu ? Ratio(cpu, baseCpu) : null,
                r.CpuUsPerOutputToken - b.CpuUsPerOutputToken),
        ];

        static double Ratio(double value, double baseline) => baseline == 0 ? 0 : value / baseline;
    }

    private async Task<int> RunConversationsAsync(ChatRequestSender sender, string model, PromptSet system, PromptSet user, CancellationToken cancellationToken)
    {
        var conversations = settings.Conversations!;
        var runner = new ConversationRunner(sender);
        var results = new List<ConversationResult>();
        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask("conversations", maxValue: conversations.Conversations * conversations.Turns * settings.Targets.Count * settings.Rounds);
                for (var round = 0; round < settings.Rounds; round++)
                {
                    // Interleaved, each round starting with the next target, as the single-request workload does.
                    for (var i = 0; i < settings.Targets.Count; i++)
                    {
                        var target = settings.Targets[(round + i) % settings.Targets.Count];
                        results.Add(await runner.RunAsync(target, model, settings, system, user, () => task.Increment(1), cancellationToken));
                    }
                }
            });

        // Each target's rounds as one run: their turns together, their durations and CPU added up.
        var merged = settings.Targets.Select(t => results.Where(r => r.Target == t.Name).ToList()).Select(runs => new ConversationResult(
            runs[0].Target, [.. runs.SelectMany(r => r.Turns)], TimeSpan.FromTicks(runs.Sum(r => r.Duration.Ticks)),
            runs.All(r => r.Cpu is not null) ? TimeSpan.FromTicks(runs.Sum(r => r.Cpu!.Value.Ticks)) : null)).ToList();
        var report = ConversationReport.Of(model, conversations, system, user, merged);
        ConversationReport.Write(console, report);
        if (settings.JsonPath is { } path)
        {
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, ConversationJsonContext.Default.ConversationReport), cancellationToken);
        }

        return report.Results.Any(r => r.Failed > 0) ? 1 : 0;
    }

    private async Task SaveAsync(BenchReport report)
    {
        if (settings.JsonPath is { } json)
        {
            await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, BenchJsonContext.Default.BenchReport));
            console.WriteLine($"JSON: {json}");
        }

        if (settings.PngPath is { } png)
        {
            ChartReport.Write(report, png);
            console.WriteLine($"Chart: {png}");
        }
    }
}
