using System.Text;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using LlmApp.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace LlmApp.Tests.Telemetry;

/// <summary>The gateway's metrics, read by a real Prometheus (the one the AppHost starts), and its logs.</summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class TelemetryTests(GatewayAppFixture fixture)
{
    private const string OutputTokens = "gen_ai_token_type=\"output\"";

    [SkippableFact]
    public async Task PrometheusScrapesTimeToFirstTokenAndTokenUsageFromTheGateway()
    {
        using var prometheus = await PrometheusAsync();
        // The tests of this collection share the gateway, one at a time: what changes while this one runs is its own.
        var firstTokensBefore = await FreshGatewaySumAsync("gen_ai_server_time_to_first_token_seconds_count{");
        var outputTokensBefore = await GatewaySumAsync("gen_ai_client_token_usage_sum{", OutputTokens);

        var outputTokens = await SendRequestsAsync(3);

        // A call is recorded as its answer ends, and /metrics may answer from a scrape a moment old: wait for the count.
        var firstTokens = await GatewaySumAsync("gen_ai_server_time_to_first_token_seconds_count{", until: count => count >= firstTokensBefore + 3);
        Assert.Equal(3, firstTokens - firstTokensBefore);
        Assert.Equal(outputTokens, await GatewaySumAsync("gen_ai_client_token_usage_sum{", OutputTokens) - outputTokensBefore);

        // Prometheus scrapes the gateway's management port, where /metrics is, and comes to the same count. The port is
        // new in every run, so these series are this run's, whatever the TSDB kept from before.
        var gateway = $"{fixture.Management.BaseAddress!.Host}:{fixture.Management.BaseAddress.Port}";
        await WaitForValueAsync(prometheus, $$"""sum(gen_ai_server_time_to_first_token_seconds_count{instance="{{gateway}}"})""", firstTokens);
        // This run's llama-server, by its address: the TSDB may still show an earlier run's for a few minutes.
        var llama = $"{fixture.Backend.BaseAddress!.Host}:{fixture.Backend.BaseAddress.Port}";
        Assert.Equal(1, await WaitForValueAsync(prometheus, $$"""up{job="llama-server",instance="{{llama}}"}"""));
    }

    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"llama-2-tiny-random","messages":[{"role":"user","content":"Hi"}],"max_tokens":3,"stream":true}""", "chat.completions")]
    [InlineData("/v1/responses", """{"model":"llama-2-tiny-random","input":"Hi","max_output_tokens":3,"stream":true}""", "responses")]
    [InlineData("/v1/messages", """{"model":"llama-2-tiny-random","messages":[{"role":"user","content":"Hi"}],"max_tokens":3,"stream":true}""", "messages")]
    public async Task EachApisRequestsAreCountedUnderItsName(string path, string body, string api)
    {
        var label = $"llmapp_api=\"{api}\"";
        var before = await FreshGatewaySumAsync("gen_ai_server_time_to_first_token_seconds_count{", label);

        using var response = await fixture.Gateway.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        _ = await response.Content.ReadAsStringAsync();

        // The same GenAI operation (chat), told apart by the API it came by.
        var after = await GatewaySumAsync("gen_ai_server_time_to_first_token_seconds_count{", label, until: count => count >= before + 1);
        Assert.Equal(1, after - before);
        var lines = (await fixture.Management.GetStringAsync("/metrics")).Split('\n');
        Assert.Contains(lines, l => l.StartsWith("gen_ai_server_time_to_first_token_seconds_count{", StringComparison.Ordinal) &&
            l.Contains(label, StringComparison.Ordinal) && l.Contains("gen_ai_operation_name=\"chat\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EachBackendsCircuitStateIsOnMetrics()
    {
        await SendRequestsAsync(1);
        var lines = (await fixture.Management.GetStringAsync("/metrics")).Split('\n');

        // One series per state, 1 for the one it is in: a healthy llama-server's circuit is closed.
        double State(string state) => Value(Assert.Single(lines, l => l.StartsWith("llmapp_backend_circuit_state{", StringComparison.Ordinal)
            && l.Contains("llmapp_backend=\"llm\"", StringComparison.Ordinal) && l.Contains($"llmapp_circuit_state=\"{state}\"", StringComparison.Ordinal)));
        Assert.Equal(1, State("closed"));
        Assert.Equal(0, State("open") + State("half_open") + State("isolated"));
    }

    [SkippableFact]
    public async Task TheLocalPrometheusEvaluatesTheSloAlertRulesAndTheirThresholdsAreBuckets()
    {
        using var prometheus = await PrometheusAsync();
        await SendRequestsAsync(1);

        using var rules = JsonDocument.Parse(await prometheus.GetStringAsync("/api/v1/rules"));
        var names = rules.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(group => group.GetProperty("rules").EnumerateArray()).Select(rule => rule.GetProperty("name").GetString()).Order();
        Assert.Equal(["LlmOutputSpeedUnderSlo", "LlmTimeToFirstTokenOverSlo"], names);
        // 300 ms and 33 ms are boundaries of the gateway's histograms, so the rules' quantiles are exact at the SLO.
        var lines = (await fixture.Management.GetStringAsync("/metrics")).Split('\n');
        Assert.Contains(lines, l => l.StartsWith("gen_ai_server_time_to_first_token_seconds_bucket{", StringComparison.Ordinal) && l.Contains("le=\"0.3\"}", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("gen_ai_server_time_per_output_token_seconds_bucket{", StringComparison.Ordinal) && l.Contains("le=\"0.033\"}", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task EveryGrafanaDashboardQueryIsPromQLThatPrometheusRunsAndTheLlamaServerSeriesExist()
    {
        using var prometheus = await PrometheusAsync();
        using var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(TestPaths.RepositoryRoot, "containers", "grafana", "llmapp-dashboard.json")));
        var queries = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .Where(panel => panel.TryGetProperty("targets", out _))
            .SelectMany(panel => panel.GetProperty("targets").EnumerateArray().Select(target => target.GetProperty("expr").GetString()!))
            .ToList();
        var backendMetrics = await fixture.Backend.GetStringAsync("/metrics");

        Assert.Contains(queries, q => q.Contains("vllm:", StringComparison.Ordinal));
        foreach (var query in queries)
        {
            // Grafana's interval variable, as it would fill it in.
            using var response = await prometheus.GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(query.Replace("$__rate_interval", "1m", StringComparison.Ordinal)));
            Assert.True(response.IsSuccessStatusCode, $"Prometheus refuses the dashboard's query {query}: {await response.Content.ReadAsStringAsync()}");
            // The llama-server series the panels name are ones this llama-server exports (vLLM's cannot be checked here).
            foreach (var metric in System.Text.RegularExpressions.Regex.Matches(query, "llamacpp:[a-z_]+").Select(m => m.Value))
            {
                Assert.Contains($"\n{metric} ", "\n" + backendMetrics, StringComparison.Ordinal);
            }
        }
    }

    [SkippableFact]
    public async Task PromtoolAcceptsTheGatewayMetrics()
    {
        OptionalTool.Promtool.SkipUnlessInstalled();
        await SendRequestsAsync(1);
        var metrics = await fixture.Management.GetStringAsync("/metrics");

        var result = await CommandRunner.RunAsync("sh", ["-c", "promtool check metrics"], Path.GetTempPath(), standardInput: metrics);

        Assert.True(result.ExitCode == 0, $"promtool check metrics failed:\n{result.Output}");
        Assert.Contains("gen_ai_server_time_to_first_token_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains("gen_ai_server_time_per_output_token_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains("gen_ai_server_request_duration_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains("llmapp_requests_active", metrics, StringComparison.Ordinal);
        Assert.Contains("llmapp_queue_length", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PromptTextNeverReachesTheLogsByDefault()
    {
        var canary = $"canary-{Guid.NewGuid():N}";

        var lines = await GatewayLogs.WhileAsync(fixture.App,
            async () =>
            {
                using var response = await PostAsync($$"""{"model":"{{GatewayAppFixture.ServedModel}}","messages":[{"role":"user","content":"{{canary}} please"}],"max_tokens":4,"temperature":0}""");
                response.EnsureSuccessStatusCode();
            },
            until: lines => lines.Any(l => l.Contains("chat.completion", StringComparison.Ordinal) && l.Contains("tokens_in=", StringComparison.Ordinal)));

        Assert.Contains(lines, l => l.Contains($"model={GatewayAppFixture.ServedModel} status=200", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(canary, StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryRequestGetsOneLogLineEvenWhenRefusedBeforeAdmission()
    {
        var requests = new Dictionary<string, (int Status, string Error)>();
        var lines = await GatewayLogs.WhileAsync(fixture.App,
            async () =>
            {
                foreach (var (json, status, error) in new[]
                {
                    ($$"""{"model":"{{GatewayAppFixture.ServedModel}}","messages":[{"role":"user","content":"hi"}],"temperature":5}""", 400, "invalid_request_error"),
                    ("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}""", 404, "model_not_found"),
                    ("{", 400, "invalid_request_error"),
                    ($$"""{"model":"{{GatewayAppFixture.ServedModel}}","messages":[{"role":"user","content":"hi"}],"max_tokens":2}""", 200, "none"),
                })
                {
                    using var response = await PostAsync(json);
                    Assert.Equal(status, (int)response.StatusCode);
                    requests[Assert.Single(response.Headers.GetValues("x-request-id"))] = (status, error);
                }
            },
            until: lines => requests.Keys.All(id => lines.Any(l => l.Contains(id, StringComparison.Ordinal))));

        foreach (var (id, (status, error)) in requests)
        {
            var line = Assert.Single(lines, l => l.Contains($"chat.completion {id} ", StringComparison.Ordinal));
            Assert.Contains($"status={status} ", line, StringComparison.Ordinal);
            Assert.Contains($"error={error}", line, StringComparison.Ordinal);
        }

        // The model a client named is not echoed into the logs: only the served one, once a request names it.
        Assert.DoesNotContain(lines, l => l.Contains("chat.completion", StringComparison.Ordinal) && l.Contains("gpt-4o", StringComparison.Ordinal));
    }

    private Task<HttpResponseMessage> PostAsync(string json) =>
        fixture.Gateway.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>Sends <paramref name="count"/> chat requests, streamed and not in turn; returns the output tokens their usage counts.</summary>
    private async Task<long> SendRequestsAsync(int count)
    {
        long outputTokens = 0;
        for (var i = 0; i < count; i++)
        {
            var stream = i % 2 == 0;
            var streamed = stream ? "true,\"stream_options\":{\"include_usage\":true}" : "false";
            using var content = new StringContent(
                $$"""{"model":"{{GatewayAppFixture.ServedModel}}","messages":[{"role":"user","content":"Hello"}],"max_tokens":4,"temperature":0,"stream":{{streamed}}}""",
                Encoding.UTF8, "application/json");
            using var response = await fixture.Gateway.PostAsync("/v1/chat/completions", content);
            response.EnsureSuccessStatusCode();
            var body = await response.Content.ReadAsStringAsync();
            var answer = stream
                ? body.Split('\n').Single(l => l.StartsWith("data: {", StringComparison.Ordinal) && l.Contains("\"usage\":{", StringComparison.Ordinal))[6..]
                : body;
            using var json = JsonDocument.Parse(answer);
            outputTokens += json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt64();
        }

        return outputTokens;
    }

    /// <summary>
    /// <see cref="GatewaySumAsync"/> once the exporter's cached answer (300 ms, OpenTelemetry's default) has run out:
    /// a count to compare with later, which must hold what an earlier test's last request recorded.
    /// </summary>
    private async Task<double> FreshGatewaySumAsync(string prefix, string label = "")
    {
        await Task.Delay(TimeSpan.FromMilliseconds(400));
        return await GatewaySumAsync(prefix, label);
    }

    /// <summary>The sum of the gateway's own series starting with <paramref name="prefix"/> (and holding <paramref name="label"/>), read from its <c>/metrics</c>.</summary>
    private async Task<double> GatewaySumAsync(string prefix, string label = "", Func<double, bool>? until = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var lines = (await fixture.Management.GetStringAsync("/metrics")).Split('\n');
            var sum = lines.Where(l => l.StartsWith(prefix, StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal)).Sum(Value);
            if (until is null || until(sum) || DateTime.UtcNow > deadline)
            {
                return sum;
            }

            await Task.Delay(100);
        }
    }

    private static double Value(string line) =>
        double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<double> WaitForValueAsync(HttpClient prometheus, string query, double? expected = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var json = JsonDocument.Parse(await prometheus.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(query)}"));
            var result = json.RootElement.GetProperty("data").GetProperty("result");
            if (result.GetArrayLength() > 0 &&
                double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture) is var value && value > 0 &&
                (expected is null || value == expected))
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Prometheus has no value{(expected is null ? "" : $" of {expected}")} for {query}");
            await Task.Delay(500);
        }
    }

    /// <summary>
    /// The local Prometheus, once it is ready: the fixture waits for the gateway only, and Prometheus starts beside it.
    /// The AppHost starts one only where it finds the binary; without it, the calling test skips, saying how to install it.
    /// </summary>
    private async Task<HttpClient> PrometheusAsync()
    {
        Skip.IfNot(fixture.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Any(r => r.Name == "prometheus"),
            $"the AppHost started no Prometheus: {OptionalTool.PrometheusServer.Missing}");
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("prometheus", cts.Token);
        return fixture.App.CreateHttpClient("prometheus", "http");
    }
}
