using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using LlmApp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LlmApp.Tests.Replicas;

/// <summary>
/// Two real llama-server replicas behind the gateway (<c>Llm:LlamaCpp:Replicas=2</c>): each conversation kept on the
/// replica that holds its prefix, a replica killed mid-stream or stopped, its rejoining, and overload across both.
/// </summary>
[Collection(ReplicasAppCollectionDefinition.Name)]
public sealed class ReplicaTests(ReplicasAppFixture fixture, ITestOutputHelper output)
{
    private const string M = GatewayAppFixture.ServedModel;

    [Fact]
    public async Task BothReplicasRunOnTheirOwnPortsWithTheirSlotsAndTheSharedKey()
    {
        var ports = new HashSet<int>();
        foreach (var replica in ReplicasAppFixture.Replicas)
        {
            await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(replica);
            using var client = fixture.Replica(replica);
            using var props = JsonDocument.Parse(await client.GetStringAsync("/props"));
            Assert.Equal(ReplicasAppFixture.SlotsPerReplica, props.RootElement.GetProperty("total_slots").GetInt32());
            ports.Add(client.BaseAddress!.Port);
        }

        Assert.Equal(2, ports.Count);
        Assert.False(fixture.App.ResourceNotifications.TryGetCurrentState("llm", out _), "one llama-server named llm beside the replicas");
    }

    [Fact]
    public async Task EveryTurnOfAConversationGoesToOneReplicaAndFindsItsPrefixInTheCache()
    {
        await WaitAllReadyAsync();
        var turns = new List<(int Conversation, int Turn, string RequestId, int PromptTokens, int CachedTokens)>();
        var lines = await GatewayLogs.WhileAsync(fixture.App,
            async () =>
            {
                for (var c = 0; c < 8; c++)
                {
                    var messages = new List<object> { new { role = "system", content = SystemPrompt(c) } };
                    for (var t = 0; t < 3; t++)
                    {
                        messages.Add(new { role = "user", content = $"Question {t} of conversation {c}: go on." });
                        using var response = await PostAsync(JsonSerializer.Serialize(new { model = M, messages, max_tokens = 8, temperature = 0 }));
                        var text = await response.Content.ReadAsStringAsync();
                        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
                        using var body = JsonDocument.Parse(text);
                        var usage = body.RootElement.GetProperty("usage");
                        var cached = usage.TryGetProperty("prompt_tokens_details", out var details) ? details.GetProperty("cached_tokens").GetInt32() : 0;
                        turns.Add((c, t, Assert.Single(response.Headers.GetValues("x-request-id")), usage.GetProperty("prompt_tokens").GetInt32(), cached));
                        messages.Add(new { role = "assistant", content = body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() });
                    }
                }
            },
            until: lines => turns.Count == 24 && turns.All(t => lines.Any(l => l.Contains(t.RequestId, StringComparison.Ordinal))));

        string BackendOf(string requestId) =>
            Assert.Single(lines, l => l.Contains(requestId, StringComparison.Ordinal) && l.Contains("backend=", StringComparison.Ordinal))
                .Split(' ').Single(p => p.StartsWith("backend=", StringComparison.Ordinal))["backend=".Length..];

        var homes = turns.GroupBy(t => t.Conversation).Select(g => g.Select(t => BackendOf(t.RequestId)).Distinct().ToList()).ToList();
        output.WriteLine(string.Join("\n", turns.Select(t => $"conversation {t.Conversation} turn {t.Turn}: {BackendOf(t.RequestId)}, {t.CachedTokens} of {t.PromptTokens} prompt tokens cached")));
        Assert.All(homes, h => Assert.Single(h));
        Assert.Equal(2, homes.Select(h => h[0]).Distinct().Count());

        // A follow-up re-reads only what is new: the earlier turn's prompt comes from the replica's cache.
        foreach (var followUp in turns.Where(t => t.Turn > 0))
        {
            var previous = turns.Single(t => t.Conversation == followUp.Conversation && t.Turn == followUp.Turn - 1);
            Assert.True(followUp.CachedTokens >= 0.9 * previous.PromptTokens,
                $"conversation {followUp.Conversation} turn {followUp.Turn}: {followUp.CachedTokens} tokens cached of the {previous.PromptTokens} sent before");
        }
    }

    [Fact]
    public async Task KillingAReplicaMidStreamContinuesItsStreamsElsewhereAndItRejoinsAfterItsRestart()
    {
        await WaitAllReadyAsync();

        // Four streams fill the four slots, two on each replica.
        var streams = new List<SseReader>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                streams.Add(await SseReader.OpenAsync(fixture.Gateway, LongStream()));
            }

            foreach (var stream in streams)
            {
                Assert.Equal(HttpStatusCode.OK, stream.Status);
                Assert.NotNull(await stream.NextDataAsync());
            }

            var killed = fixture.BackendProcessId("llm-1");
            Process.GetProcessById(killed).Kill();
            var ends = new List<string>();
            foreach (var stream in streams)
            {
                ends.Add((await stream.ReadToEndAsync()).Events[^1]);
            }

            // The two it cut go on on the survivor (or on llm-1 once restarted): every stream ends whole.
            output.WriteLine(string.Join("\n", ends));
            Assert.Equal(4, ends.Count(e => e == "[DONE]"));

            // Meanwhile new requests are served, by the survivor.
            for (var i = 0; i < 4; i++)
            {
                using var response = await PostAsync(Short($"While llm-1 is down {i}"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            // The AppHost starts it again; once it answers, it takes its conversations back.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!TryProcessId("llm-1", out var pid) || pid == killed)
            {
                Assert.True(DateTime.UtcNow < deadline, "llm-1 was not started again");
                await Task.Delay(100);
            }

            await WaitAllReadyAsync();
            await AssertServesAsync("llm-1");
        }
        finally
        {
            foreach (var stream in streams)
            {
                await stream.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task WhileAReplicaIsStoppedEveryRequestIsServedByTheOtherAndItRejoinsWhenStarted()
    {
        await WaitAllReadyAsync();
        await fixture.App.ResourceCommands.ExecuteCommandAsync("llm-2", "resource-stop");
        try
        {
            await fixture.App.ResourceNotifications.WaitForResourceAsync("llm-2", [KnownResourceStates.Exited, KnownResourceStates.Finished]);
            // At once, before the gateway's probes notice: a request sent to llm-2 fails to connect and moves to llm-1,
            // waiting there for a slot if need be. As many requests as the slots and the queue hold: none is refused.
            const int Capacity = (2 * ReplicasAppFixture.SlotsPerReplica) + ReplicasAppFixture.QueueLimit;
            var statuses = await Task.WhenAll(Enumerable.Range(0, Capacity).Select(async i =>
            {
                using var response = await PostAsync(Short($"While llm-2 is stopped {i}"));
                return response.StatusCode;
            }));

            Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
            Assert.Equal(HttpStatusCode.OK, (await fixture.Gateway.GetAsync("/readyz")).StatusCode);
        }
        finally
        {
            await fixture.App.ResourceCommands.ExecuteCommandAsync("llm-2", "resource-start");
        }

        await WaitAllReadyAsync();
        await AssertServesAsync("llm-2");
    }

    [Fact]
    public async Task OverloadAcrossReplicasGets429OnlyOnceEverySlotAndTheQueueAreFull()
    {
        await WaitAllReadyAsync();
        const int Capacity = (2 * ReplicasAppFixture.SlotsPerReplica) + ReplicasAppFixture.QueueLimit;
        var results = await Task.WhenAll(Enumerable.Range(0, Capacity + 3).Select(async _ =>
        {
            await using var stream = await SseReader.OpenAsync(fixture.Gateway, LongStream(2000));
            if (stream.Status != HttpStatusCode.OK)
            {
                return (int)stream.Status;
            }

            var (events, _) = await stream.ReadToEndAsync();
            return events[^1] == "[DONE]" ? 200 : -1;
        }));

        output.WriteLine(string.Join(", ", results));
        Assert.Equal(3, results.Count(r => r == 429));
        Assert.Equal(Capacity, results.Count(r => r == 200));
    }

    /// <summary>
    /// Sends requests of new prefixes, a batch at a time, until <paramref name="replica"/> has served some (its
    /// prompt-token counter grew; /metrics is cached for a moment, hence the polling).
    /// </summary>
    private async Task AssertServesAsync(string replica)
    {
        var before = await PromptTokensAsync(replica);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (await PromptTokensAsync(replica) <= before)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{replica} got no conversation in 20 s after it came back");
            for (var i = 0; i < 8; i++)
            {
                using var response = await PostAsync(Short($"Back again {Guid.NewGuid():N}"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            await Task.Delay(500);
        }
    }

    private async Task<double> PromptTokensAsync(string replica)
    {
        var metrics = await fixture.Management.GetStringAsync("/metrics");
        return metrics.Split('\n')
            .Where(l => l.StartsWith("llmapp_backend_prompt_tokens_total{", StringComparison.Ordinal) && l.Contains($"llmapp_backend=\"{replica}\"", StringComparison.Ordinal))
            .Sum(l => double.Parse(l.Split(' ')[^1], CultureInfo.InvariantCulture));
    }

    private async Task WaitAllReadyAsync()
    {
        foreach (var replica in ReplicasAppFixture.Replicas)
        {
            await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(replica);
        }

        // And the gateway has seen them answer (its probe runs every second): llmapp_backend_up is 1 for each.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string metrics;
        while (!ReplicasUp(metrics = await fixture.Management.GetStringAsync("/metrics")))
        {
            Assert.True(DateTime.UtcNow < deadline, "the gateway does not see both replicas up:\n" +
                string.Join("\n", metrics.Split('\n').Where(l => l.StartsWith("llmapp_backend_up", StringComparison.Ordinal))));
            await Task.Delay(200);
        }
    }

    private static bool ReplicasUp(string metrics) =>
        ReplicasAppFixture.Replicas.All(replica => metrics.Split('\n').Any(l =>
            l.StartsWith("llmapp_backend_up{", StringComparison.Ordinal) && l.Contains($"llmapp_backend=\"{replica}\"", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal)));

    private bool TryProcessId(string replica, out int pid)
    {
        try
        {
            pid = fixture.BackendProcessId(replica);
            return true;
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or InvalidCastException)
        {
            pid = 0;
            return false;
        }
    }

    private Task<HttpResponseMessage> PostAsync(string json) =>
        fixture.Gateway.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));

    private static string SystemPrompt(int conversation) =>
        $"You are assistant number {conversation}. " + string.Concat(Enumerable.Repeat($"Conversation {conversation} keeps to its subject and answers briefly. ", 30));

    private static string Short(string content) => JsonSerializer.Serialize(new { model = M, messages = new[] { new { role = "user", content } }, max_tokens = 2, temperature = 0 });

    // "Go on" at temperature 0 runs its whole length on the tiny model (other prompts can trip llama-server's output parser).
    private static string LongStream(int maxTokens = 3500) =>
        JsonSerializer.Serialize(new { model = M, messages = new[] { new { role = "user", content = "Go on" } }, max_tokens = maxTokens, temperature = 0, stream = true });
}
