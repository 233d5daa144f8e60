using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LlmApp.Tests.Compose;

/// <summary>
/// <c>Llm:LlamaCpp:Replicas=2</c> in compose, for real: the file generated with it comes up (on the images the stack
/// fixture built) with <c>llm-1</c> and <c>llm-2</c>, the gateway routes conversations to both, and Prometheus scrapes
/// both. A project of its own, taken down afterwards.
/// </summary>
[Collection(ComposeStackCollectionDefinition.Name)]
public sealed class ComposeReplicasTests(ComposeStackFixture fixture, ITestOutputHelper output)
{
    private static readonly string[] s_replicas = ["llm-1", "llm-2"];

    [SkippableFact]
    public async Task TwoReplicasComeUpAndBothServeConversationsAndAreScraped()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        var generated = await ComposeGeneration.GenerateAsync(["--Llm:LlamaCpp:Replicas=2"]);
        int gatewayPort = LocalPorts.Free(), prometheusPort = LocalPorts.Free();
        var compose = new DockerCompose("llmapp-compose-replicas", Path.Combine(generated, "docker-compose.yml"), Path.Combine(generated, ".env"),
            new Dictionary<string, string>
            {
                ["LLMAPP_MODEL_FILE"] = TestPaths.TestModel,
                ["LLMAPP_SERVED_MODEL"] = ComposeStackFixture.ServedModel,
                ["LLMAPP_GATEWAY_BIND"] = "127.0.0.1",
                ["LLMAPP_GATEWAY_PORT"] = gatewayPort.ToString(CultureInfo.InvariantCulture),
                ["LLMAPP_PROMETHEUS_PORT"] = prometheusPort.ToString(CultureInfo.InvariantCulture),
                ["LLMAPP_GRAFANA_PORT"] = LocalPorts.Free().ToString(CultureInfo.InvariantCulture),
            });
        await compose.RunAsync(["down", "--volumes", "--remove-orphans"], TimeSpan.FromMinutes(2));
        try
        {
            await compose.RequireAsync(["up", "--detach"], TimeSpan.FromMinutes(5));
            await compose.WaitHealthyAsync(["llm-model", .. s_replicas, "gateway", "prometheus"], TimeSpan.FromMinutes(5));

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{gatewayPort}/"), Timeout = TimeSpan.FromSeconds(60) };
            for (var i = 0; i < 12; i++)
            {
                var body = JsonSerializer.Serialize(new
                {
                    model = ComposeStackFixture.ServedModel,
                    messages = new[] { new { role = "user", content = $"Conversation {i} {Guid.NewGuid():N}" } },
                    max_tokens = 2,
                    temperature = 0,
                });
                using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            // The gateway's own count, read inside its container: its management port is not published.
            var gateway = await compose.ContainerAsync("gateway");
            var metrics = await CommandRunner.RunAsync("docker", ["exec", gateway, "curl", "-fsS", "http://127.0.0.1:9464/metrics"], TestPaths.RepositoryRoot,
                timeout: TimeSpan.FromSeconds(30));
            var served = s_replicas.ToDictionary(r => r, r => metrics.StandardOutput.Split('\n')
                .Where(l => l.StartsWith("llmapp_backend_prompt_tokens_total{", StringComparison.Ordinal) && l.Contains($"llmapp_backend=\"{r}\"", StringComparison.Ordinal))
                .Sum(l => double.Parse(l.Split(' ')[^1], CultureInfo.InvariantCulture)));
            output.WriteLine(string.Join(", ", served.Select(s => $"{s.Key}: {s.Value} prompt tokens")));
            Assert.All(served.Values, tokens => Assert.True(tokens > 0, "a replica served none of 12 new conversations"));

            // Prometheus scrapes both replicas, with the key made on the server.
            using var prometheus = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{prometheusPort}/") };
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            string targets;
            while (UpTargets(targets = await prometheus.GetStringAsync("/api/v1/targets"), "llama-server") < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, $"Prometheus does not scrape both replicas:\n{targets}");
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
        finally
        {
            await compose.RunAsync(["down", "--volumes", "--remove-orphans"], TimeSpan.FromMinutes(2));
        }
    }

    private static int UpTargets(string targets, string job)
    {
        using var document = JsonDocument.Parse(targets);
        return document.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray()
            .Count(t => t.GetProperty("labels").GetProperty("job").GetString() == job && t.GetProperty("health").GetString() == "up");
    }
}
