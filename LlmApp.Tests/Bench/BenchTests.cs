using System.Text.Json;
using LlmApp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LlmApp.Tests.Bench;

/// <summary>
/// A short run of LlmApp.Bench, as a user runs it (<c>dotnet LlmApp.Bench.dll ...</c>), against the real gateway and
/// llama-server, so that the tool keeps working. Its figures are for people: nothing here asserts a timing.
/// </summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class BenchTests(GatewayAppFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task ACompareRunReportsEveryMetricInVllmsFieldNamesWithCpuPerToken()
    {
        var scratch = TestPaths.NewScratchDirectory();
        var json = Path.Combine(scratch, "bench.json");
        var png = Path.Combine(scratch, "bench.png");

        var run = await ProjectProcess.RunAsync("LlmApp.Bench",
        [
            "--compare", $"direct={Url(fixture.Backend)},gateway={Url(fixture.Gateway)}",
            "--pid", $"direct={fixture.BackendProcessId()}",
            // llama-server takes its generated key; the open gateway ignores it.
            "--api-key", fixture.BackendKey,
            "--concurrency", "1,2", "--num-prompts", "4", "--rounds", "2", "--warmup", "1",
            "--prompt-tokens", "32", "--output-tokens", "8", "--json", json, "--png", png,
        ]);
        output.WriteLine(run.Output);

        Assert.True(run.ExitCode == 0, run.Output);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.True(report.RootElement.GetProperty("input_tokens_measured").GetBoolean(), "llama-server's /tokenize sized the prompts");
        Assert.Equal("tokenize", report.RootElement.GetProperty("input_tokens_counted_by").GetString());
        var results = report.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(4, results.Count);
        foreach (var result in results)
        {
            Assert.Equal(8, result.GetProperty("completed").GetInt32());
            Assert.Equal(0, result.GetProperty("failed").GetInt32());
            foreach (var metric in new[] { "ttft", "tpot", "itl", "e2el" })
            {
                foreach (var stat in new[] { "mean", "median", "std", "p50", "p90", "p99" })
                {
                    Assert.True(result.TryGetProperty($"{stat}_{metric}_ms", out _), $"{stat}_{metric}_ms is missing");
                }
            }

            foreach (var field in new[] { "duration", "total_input_tokens", "total_output_tokens", "request_throughput", "output_throughput", "total_token_throughput", "max_concurrency" })
            {
                Assert.True(result.TryGetProperty(field, out _), $"{field} is missing");
            }

            Assert.True(result.GetProperty("mean_ttft_ms").GetDouble() > 0);
            Assert.Equal(64, result.GetProperty("total_output_tokens").GetInt64());
        }

        var direct = results.First(r => r.GetProperty("target").GetString() == "direct");
        Assert.True(direct.GetProperty("cpu_us_per_output_token").GetDouble() > 0, "CPU per token from /proc for the --pid given");
        Assert.Equal(2, report.RootElement.GetProperty("comparisons").GetArrayLength());
        var header = new byte[8];
        await using (var file = File.OpenRead(png))
        {
            await file.ReadExactlyAsync(header);
        }

        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, header);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheThreeApisOfOneGatewayAreMeasuredSideBySide(bool stream)
    {
        var scratch = TestPaths.NewScratchDirectory();
        var json = Path.Combine(scratch, "apis.json");
        var gateway = Url(fixture.Gateway);

        string[] arguments =
        [
            "--compare", $"chat={gateway},responses={gateway},messages={gateway}",
            "--api", "responses=responses", "--api", "messages=messages",
            "--concurrency", "2", "--num-prompts", "4", "--rounds", "1", "--warmup", "1",
            "--prompt-tokens", "32", "--output-tokens", "8", "--json", json,
        ];
        var run = await ProjectProcess.RunAsync("LlmApp.Bench", stream ? arguments : [.. arguments, "--no-stream"]);
        output.WriteLine(run.Output);

        Assert.True(run.ExitCode == 0, run.Output);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var results = report.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["chat", "responses", "messages"], results.Select(r => r.GetProperty("target").GetString()));
        foreach (var result in results)
        {
            // Each API's own usage counted the tokens: 8 of each of 4 answers, and every prompt (Anthropic's cached
            // tokens added back to its input_tokens).
            Assert.Equal(4, result.GetProperty("completed").GetInt32());
            Assert.Equal(32, result.GetProperty("total_output_tokens").GetInt64());
            Assert.True(result.GetProperty("total_input_tokens").GetInt64() >= 4 * 32, result.ToString());
        }
    }

    [Fact]
    public async Task AnUnknownApiIsToldSoInOneLine()
    {
        var run = await ProjectProcess.RunAsync("LlmApp.Bench", ["--base-url", $"{Url(fixture.Gateway)}", "--api", "completions", "--warmup", "0"]);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--api: 'completions' is not an API; use chat, responses or messages.", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailedRequestsAreShownAndMakeTheExitCodeNonZero()
    {
        var run = await ProjectProcess.RunAsync("LlmApp.Bench",
            ["--base-url", $"{Url(fixture.Gateway)}", "--model", "no-such-model", "--num-prompts", "2", "--warmup", "0", "--output-tokens", "4"]);
        output.WriteLine(run.Output);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("2 of 2 requests failed", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("HTTP 404", run.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheMultiTurnWorkloadReportsHowMuchOfEachFollowUpCameFromTheCache()
    {
        var json = Path.Combine(TestPaths.NewScratchDirectory(), "conversations.json");

        var run = await ProjectProcess.RunAsync("LlmApp.Bench",
        [
            "--base-url", Url(fixture.Gateway), "--conversations", "2", "--turns", "3", "--system-tokens", "64", "--turn-tokens", "16",
            "--output-tokens", "8", "--json", json,
        ]);
        output.WriteLine(run.Output);

        Assert.True(run.ExitCode == 0, run.Output);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var result = Assert.Single(report.RootElement.GetProperty("results").EnumerateArray());
        Assert.Equal(6, result.GetProperty("completed").GetInt32());
        Assert.True(result.GetProperty("follow_up_reusable_prefix_tokens").GetInt64() > 0);
        // llama-server keeps a conversation's prefix in its slot: the gateway passes the cached count through.
        Assert.True(result.GetProperty("cache_hit_ratio").GetDouble() > 0.5, $"cache hit ratio {result.GetProperty("cache_hit_ratio").GetDouble()}");
    }

    [Fact]
    public async Task AnOpenLoopSendsAtItsRateAndCountsRefusalsApartFromFailures()
    {
        // Poisson arrivals at 20 a second, then everything at once: the gateway's slots and queue turn some away with 429,
        // which is an answer (counted, with how fast it came), not a failure.
        var json = Path.Combine(TestPaths.NewScratchDirectory(), "open.json");

        var run = await ProjectProcess.RunAsync("LlmApp.Bench",
        [
            "--base-url", Url(fixture.Gateway), "--request-rate", "20,inf", "--num-prompts", "30", "--warmup", "0", "--prompt-tokens", "16",
            "--output-tokens", "4", "--goodput", "ttft:60000", "tpot:60000", "--json", json,
        ]);
        output.WriteLine(run.Output);

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("req/s sent", run.StandardOutput, StringComparison.Ordinal);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var results = report.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(2, results.Count);
        Assert.Equal(20, results[0].GetProperty("request_rate").GetDouble());
        Assert.Equal("Infinity", results[1].GetProperty("request_rate").GetString());
        foreach (var result in results)
        {
            Assert.Equal(1, result.GetProperty("burstiness").GetDouble());
            Assert.Equal(0, result.GetProperty("failed").GetInt32());
            Assert.Equal(30, result.GetProperty("completed").GetInt32() + result.GetProperty("refused").GetInt32());
            // Every answered request meets objectives of a minute: goodput is the answered requests a second.
            Assert.Equal(result.GetProperty("request_throughput").GetDouble(), result.GetProperty("request_goodput").GetDouble(), precision: 6);
        }

        // At 20 a second, 30 requests take about 1.5 s to send: an open loop does not wait for the answers.
        Assert.InRange(results[0].GetProperty("duration").GetDouble(), 1.0, 30);
        Assert.Equal(60000, report.RootElement.GetProperty("slo").GetProperty("ttft_ms").GetDouble());
    }

    [Theory]
    [InlineData("--goodput", "ttft=300", "--goodput takes name:milliseconds pairs")]
    [InlineData("--goodput", "latency:300", "--goodput knows ttft, tpot and e2el")]
    [InlineData("--request-rate", "0", "--request-rate takes requests a second above 0, or inf")]
    public async Task ABadOpenLoopOrGoodputOptionIsOneLine(string option, string value, string expected)
    {
        var run = await ProjectProcess.RunAsync("LlmApp.Bench", ["--base-url", Url(fixture.Gateway), option, value, "--num-prompts", "2", "--warmup", "0"]);

        Assert.Equal(2, run.ExitCode);
        var error = Assert.Single(run.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutATokenizeEndpointThePromptsAreSizedByTheServersOwnUsageCount()
    {
        // The gateway has no /tokenize (no OpenAI server has): the chat endpoint's usage counts the prompt, less the
        // tokens of the chat template that an empty message shows.
        var json = Path.Combine(TestPaths.NewScratchDirectory(), "gateway.json");

        var run = await ProjectProcess.RunAsync("LlmApp.Bench",
        [
            "--base-url", Url(fixture.Gateway), "--num-prompts", "4", "--warmup", "0", "--prompt-tokens", "100", "--output-tokens", "2",
            "--no-stream", "--json", json,
        ]);
        output.WriteLine(run.Output);

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.DoesNotContain("(estimated)", run.StandardOutput, StringComparison.Ordinal);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.Equal("usage", report.RootElement.GetProperty("input_tokens_counted_by").GetString());
        var tokens = report.RootElement.GetProperty("input_tokens_per_prompt").GetInt32();
        Assert.InRange(tokens, 98, 102);

        // What the server read for each prompt: the text's tokens and the template's. The first prompt is sized; the
        // others have the same number of words in another order, so a token or two more or less.
        var template = await TemplateTokensAsync();
        var result = Assert.Single(report.RootElement.GetProperty("results").EnumerateArray());
        Assert.InRange(result.GetProperty("total_input_tokens").GetInt64() / 4.0, tokens + template - 3, tokens + template + 3);
    }

    [Fact]
    public async Task StreamsStraightToLlamaServerDoNotFailOnTheConnectionsItClosesAfterEachStream()
    {
        // llama-server closes a connection after every stream although its Keep-Alive header says otherwise; with many
        // short streams side by side, some of the next requests go out on such a connection (1 in 400 failed so before).
        var json = Path.Combine(TestPaths.NewScratchDirectory(), "direct.json");

        var run = await ProjectProcess.RunAsync("LlmApp.Bench",
        [
            "--base-url", Url(fixture.Backend), "--api-key", fixture.BackendKey, "--concurrency", "16", "--num-prompts", "400", "--warmup", "0",
            "--prompt-tokens", "16", "--output-tokens", "2", "--json", json,
        ]);
        output.WriteLine(run.Output);

        Assert.True(run.ExitCode == 0, run.Output);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var result = Assert.Single(report.RootElement.GetProperty("results").EnumerateArray());
        Assert.Equal(400, result.GetProperty("completed").GetInt32());
        Assert.Equal(0, result.GetProperty("failed").GetInt32());
    }

    [Fact]
    public async Task ABaseUrlWithoutV1IsToldSoInOneLineBeforeAnyRequest()
    {
        // The gateway's root, not its OpenAI base: GET /models there is a 404.
        var run = await ProjectProcess.RunAsync("LlmApp.Bench", ["--base-url", fixture.Gateway.BaseAddress!.ToString(), "--num-prompts", "2", "--warmup", "0"]);
        output.WriteLine(run.Output);

        Assert.Equal(2, run.ExitCode);
        var error = Assert.Single(run.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("bench: error: GET ", error, StringComparison.Ordinal);
        Assert.Contains("404", error, StringComparison.Ordinal);
        Assert.Contains("/v1", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServerThatIsNotThereIsToldSoInOneLine()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var run = await ProjectProcess.RunAsync("LlmApp.Bench", ["--base-url", $"http://127.0.0.1:{port}/v1", "--num-prompts", "2", "--warmup", "0"]);
        output.WriteLine(run.Output);

        Assert.Equal(2, run.ExitCode);
        var error = Assert.Single(run.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"127.0.0.1:{port}", error, StringComparison.Ordinal);
        Assert.Contains("refused", error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task RequestsToAServerThatRefusesConnectionsFailWithoutBeingSentAgain()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var run = await ProjectProcess.RunAsync("LlmApp.Bench",
            ["--base-url", $"http://127.0.0.1:{port}/v1", "--model", "any", "--concurrency", "4", "--num-prompts", "4", "--warmup", "0"]);
        output.WriteLine(run.Output);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("4 of 4 requests failed", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("refused", run.StandardOutput, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("sent again", run.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--json")]
    [InlineData("--png")]
    public async Task AnOutputFileThatCannotBeWrittenIsRefusedBeforeTheRunNotAfterIt(string option)
    {
        var missing = Path.Combine(TestPaths.NewScratchDirectory(), "no-such-directory", "out");

        var run = await ProjectProcess.RunAsync("LlmApp.Bench",
            ["--base-url", Url(fixture.Gateway), "--num-prompts", "2", "--warmup", "0", "--output-tokens", "4", option, missing]);
        output.WriteLine(run.Output);

        Assert.Equal(2, run.ExitCode);
        var error = Assert.Single(run.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"bench: error: {option}: the directory of '{missing}' does not exist.", error.TrimEnd());
        Assert.DoesNotContain("concurrency", run.StandardOutput, StringComparison.Ordinal);
    }

    private async Task<int> TemplateTokensAsync()
    {
        using var response = await fixture.Gateway.PostAsync("v1/chat/completions", new StringContent(
            $$"""{"model":"{{GatewayAppFixture.ServedModel}}","messages":[{"role":"user","content":""}],"max_tokens":1}""",
            System.Text.Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return answer.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
    }

    private static string Url(HttpClient client) => new Uri(client.BaseAddress!, "v1").ToString();
}
