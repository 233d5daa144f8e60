using System.ClientModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using Xunit.Abstractions;

namespace LlmApp.Tests.Compose;

/// <summary>
/// The generated docker-compose.yml, built and brought up with Debian's docker-compose 1.29: served through the one
/// published port to the official SDKs, scraped by its Prometheus, limited as generated, restarted after a crash,
/// and keeping its volumes across <c>down</c>.
/// </summary>
[Collection(ComposeStackCollectionDefinition.Name)]
public sealed class ComposeStackTests(ComposeStackFixture fixture, ITestOutputHelper output)
{
    private const long MiB = 1024 * 1024;

    [SkippableFact]
    public async Task TheDotnetSdkGetsAnswersStreamedAndNotThroughThePublishedPort()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        output.WriteLine(string.Join('\n', fixture.Timings));
        var client = new ChatClient(ComposeStackFixture.ServedModel, new ApiKeyCredential(fixture.ApiKey),
            new OpenAIClientOptions { Endpoint = new Uri(fixture.Gateway, "v1") });
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0 };

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Say hello")], options);
        Assert.NotEmpty(completion.Content[0].Text);
        Assert.True(completion.Usage.OutputTokenCount > 0);

        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Say hello")], options))
        {
            text.Append(string.Concat(update.ContentUpdate.Select(part => part.Text)));
            finish ??= update.FinishReason;
        }

        Assert.NotEqual(0, text.Length);
        Assert.NotNull(finish);
    }

    [SkippableFact]
    public async Task TheKeysOfDotEnvAndOfTheMountedFileAreRequiredOnV1AndHealthStaysOpen()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        using var anonymous = new HttpClient { BaseAddress = fixture.Gateway };
        using var refused = await anonymous.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("Bearer", Assert.Single(refused.Headers.WwwAuthenticate).Scheme);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/readyz")).StatusCode);

        using var fromFile = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json(Request(2, stream: false)) };
        fromFile.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", fixture.FileApiKey);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(fromFile)).StatusCode);

        // The request log names the key; neither key is in the container's logs.
        var logs = await fixture.Compose.RunAsync(["logs", "gateway"], TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(fixture.ApiKey, logs.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.FileApiKey, logs.Output, StringComparison.Ordinal);
        Assert.Contains("key=file-app", logs.Output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task TheNodeSdkSuitePassesThroughThePublishedPort()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        await NodeSdk.RunAsync("compose.test.mjs", fixture.Gateway, new Dictionary<string, string> { ["LLMAPP_API_KEY"] = fixture.ApiKey });
    }

    [SkippableFact]
    public async Task PrometheusScrapesTheGatewayAndLlamaServer()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        using var http = new HttpClient { BaseAddress = fixture.Prometheus };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string targets;
        while (!AllUp(targets = await http.GetStringAsync("/api/v1/targets"), "llmapp-gateway", "llama-server"))
        {
            Assert.True(DateTime.UtcNow < deadline, $"Prometheus does not scrape both targets:\n{targets}");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        // The gateway's own series, not just the target's 'up'.
        var query = await http.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString("count({job=\"llmapp-gateway\"})"));
        using var result = JsonDocument.Parse(query);
        var count = result.RootElement.GetProperty("data").GetProperty("result")[0].GetProperty("value")[1].GetString();
        output.WriteLine($"series scraped from the gateway: {count}");
        Assert.True(int.Parse(count!, CultureInfo.InvariantCulture) > 10);

        // And it evaluates the SLO's alert rules (containers/prometheus/alerts.yml).
        using var rules = JsonDocument.Parse(await http.GetStringAsync("/api/v1/rules"));
        var names = rules.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(group => group.GetProperty("rules").EnumerateArray()).Select(rule => rule.GetProperty("name").GetString()).Order();
        Assert.Equal(["LlmOutputSpeedUnderSlo", "LlmTimeToFirstTokenOverSlo"], names);
    }

    [SkippableFact]
    public async Task LlamaServerTakesRequestsOnlyWithTheKeyMadeOnTheServer()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        var llm = await fixture.Compose.ContainerAsync("llm");

        async Task<string> StatusAsync(string path, bool withKey)
        {
            var header = withKey ? "-H \"Authorization: Bearer $(cat /etc/llmapp/backend-key/key)\" " : "";
            var result = await CommandRunner.RunAsync("docker",
                ["exec", llm, "sh", "-c", $"curl -s -o /dev/null -w '%{{http_code}}' {header}http://127.0.0.1:8080{path}"],
                TestPaths.RepositoryRoot, timeout: TimeSpan.FromSeconds(30));
            return result.StandardOutput.Trim();
        }

        Assert.Equal("401", await StatusAsync("/slots", withKey: false));
        Assert.Equal("401", await StatusAsync("/metrics", withKey: false));
        Assert.Equal("200", await StatusAsync("/slots", withKey: true));
        Assert.Equal("200", await StatusAsync("/health", withKey: false));

        // Made on the server, not shipped: neither the committed files nor the image hold it.
        var key = (await CommandRunner.RunAsync("docker", ["exec", llm, "cat", "/etc/llmapp/backend-key/key"], TestPaths.RepositoryRoot,
            timeout: TimeSpan.FromSeconds(30))).StandardOutput.Trim();
        Assert.Equal(64, key.Length);
        Assert.DoesNotContain(key, await File.ReadAllTextAsync(Path.Combine(TestPaths.RepositoryRoot, "docker-compose.yml")), StringComparison.Ordinal);
        Assert.DoesNotContain(key, await File.ReadAllTextAsync(Path.Combine(TestPaths.RepositoryRoot, ".env")), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task EachServiceRunsWithinItsLimitsAndOnlyTheGatewayPortFacesTheNetwork()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        (string Service, long Memory, long NanoCpus)[] expected =
            [("llm", 3072 * MiB, 2_000_000_000), ("gateway", 384 * MiB, 1_000_000_000), ("prometheus", 256 * MiB, 500_000_000)];
        foreach (var (service, memory, cpus) in expected)
        {
            var limits = await fixture.Compose.InspectAsync(service, "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.RestartPolicy.Name}}");
            output.WriteLine($"{service}: {limits}");
            Assert.Equal($"{memory} {cpus} unless-stopped", limits);
        }

        Assert.Equal("", await fixture.Compose.InspectAsync("llm", "{{range $port, $bindings := .NetworkSettings.Ports}}{{range $bindings}}{{.HostIp}}:{{.HostPort}} {{end}}{{end}}"));
        Assert.Equal($"127.0.0.1:{fixture.Gateway.Port}",
            (await fixture.Compose.InspectAsync("gateway", "{{range $port, $bindings := .NetworkSettings.Ports}}{{range $bindings}}{{.HostIp}}:{{.HostPort}}{{end}}{{end}}")));
        Assert.Equal($"127.0.0.1:{fixture.Prometheus.Port}",
            (await fixture.Compose.InspectAsync("prometheus", "{{range $port, $bindings := .NetworkSettings.Ports}}{{range $bindings}}{{.HostIp}}:{{.HostPort}}{{end}}{{end}}")));
    }

    [SkippableFact]
    public async Task KillingLlamaServerMidStreamTheContainerComesBackAndTheStreamGoesOnWhole()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        using var http = fixture.CreateClient(TimeSpan.FromSeconds(60));
        var restartsBefore = int.Parse(await fixture.Compose.InspectAsync("llm", "{{.RestartCount}}"), CultureInfo.InvariantCulture);

        // A crash, not a stop: docker kill counts as a manual stop, after which the restart policy never fires. The
        // process is looked up first, so that it dies right after the first token, long before the answer ends.
        var pid = int.Parse(await fixture.Compose.InspectAsync("llm", "{{.State.Pid}}"), CultureInfo.InvariantCulture);
        using var llamaServer = Process.GetProcessById(pid);
        Assert.Equal("llama-server", llamaServer.ProcessName);
        await using var stream = await SseReader.OpenAsync(http, Request(3500, stream: true));
        Assert.Equal(HttpStatusCode.OK, stream.Status);
        Assert.NotNull(await stream.NextDataAsync());
        llamaServer.Kill();
        var (events, elapsed) = await stream.ReadToEndAsync();
        output.WriteLine($"llama-server (host pid {pid}) killed mid-stream; the stream ended {elapsed.TotalMilliseconds:F0} ms later with: {events.LastOrDefault()}");
        // The restart policy brings it back, and the gateway continues the answer there from the text already sent
        // (Resilience:ResumeCutAnswers, which the AppHost sets): one whole answer, one finish reason, no error.
        Assert.Equal("[DONE]", events[^1]);
        Assert.Single(events, e => e.Contains("\"finish_reason\":\"", StringComparison.Ordinal));
        Assert.DoesNotContain(events, e => e.StartsWith("{\"error\"", StringComparison.Ordinal));

        var clock = Stopwatch.StartNew();
        await fixture.Compose.WaitHealthyAsync(["llm"], TimeSpan.FromMinutes(3));
        Assert.True(int.Parse(await fixture.Compose.InspectAsync("llm", "{{.RestartCount}}"), CultureInfo.InvariantCulture) > restartsBefore,
            "the llm container was not restarted by its restart policy");
        HttpStatusCode status;
        while ((status = (await http.PostAsync("/v1/chat/completions", Json(Request(4, stream: false)))).StatusCode) != HttpStatusCode.OK)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"after the restart the gateway still answers {(int)status}");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }

        output.WriteLine($"serving again {clock.Elapsed.TotalSeconds:F1} s after the crash");
    }

    [SkippableFact]
    public async Task DownKeepsTheModelAndPrometheusVolumes()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        await fixture.Compose.RequireAsync(["down"], TimeSpan.FromMinutes(2));
        var volumes = await CommandRunner.RunAsync("docker", ["volume", "ls", "--quiet", "--filter", $"label=com.docker.compose.project={fixture.Compose.Project}"],
            TestPaths.RepositoryRoot);
        output.WriteLine($"volumes after down:\n{volumes.StandardOutput}");
        Assert.Contains($"{fixture.Compose.Project}_models", volumes.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{fixture.Compose.Project}_prometheus-data", volumes.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{fixture.Compose.Project}_backend-key", volumes.StandardOutput, StringComparison.Ordinal);

        // And up again on those volumes, for the tests that run after this one.
        await fixture.Compose.RequireAsync(["up", "--detach"], TimeSpan.FromMinutes(5));
        await fixture.Compose.WaitHealthyAsync(["llm-model", .. ComposeStackFixture.LongRunning], TimeSpan.FromMinutes(5));
    }

    [SkippableFact]
    public async Task EveryServiceRunsAsItsOwnUserWithoutCapabilitiesOnAReadOnlyRootAndOnlyItsNetworks()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        var project = fixture.Compose.Project;
        (string Service, string User, string Networks)[] expected =
        [
            ("gateway-check", "app", $"{project}_backend"),
            ("llm-model", "llmapp-model", $"{project}_downloads"),
            ("llm", "llama", $"{project}_backend"),
            ("gateway", "app", $"{project}_backend {project}_edge"),
            ("prometheus", "prometheus", $"{project}_backend {project}_edge"),
        ];
        foreach (var (service, user, networks) in expected)
        {
            var seen = await fixture.Compose.InspectAsync(service,
                "{{.Config.User}}|{{.HostConfig.ReadonlyRootfs}}|{{.HostConfig.CapDrop}}|{{.HostConfig.SecurityOpt}}|{{.HostConfig.PidsLimit}}|" +
                "{{range $name, $network := .NetworkSettings.Networks}}{{$name}} {{end}}");
            output.WriteLine($"{service}: {seen}");
            Assert.Equal($"{user}|true|[ALL]|[no-new-privileges:true]|256|{networks}", seen);
        }

        // Nothing runs as root inside either.
        foreach (var service in new[] { "llm", "gateway", "prometheus" })
        {
            var uid = await CommandRunner.RunAsync("docker", ["exec", await fixture.Compose.ContainerAsync(service), "id", "-u"], TestPaths.RepositoryRoot,
                timeout: TimeSpan.FromSeconds(30));
            Assert.NotEqual("0", uid.StandardOutput.Trim());
        }

        // The model servers' network reaches nothing outside the host; the backend key is for its group only.
        var network = await CommandRunner.RunAsync("docker", ["network", "inspect", "--format", "{{.Internal}}", $"{project}_backend"], TestPaths.RepositoryRoot,
            timeout: TimeSpan.FromSeconds(30));
        Assert.Equal("true", network.StandardOutput.Trim());
        var key = await CommandRunner.RunAsync("docker", ["exec", await fixture.Compose.ContainerAsync("gateway"), "stat", "-c", "%a %u:%g", "/etc/llmapp/backend-key/key"],
            TestPaths.RepositoryRoot, timeout: TimeSpan.FromSeconds(30));
        Assert.Equal("640 10002:1654", key.StandardOutput.Trim());
    }

    [SkippableFact]
    public async Task AKeysFileReplacedByRenameIsTakenInsideTheContainerWithinSeconds()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        using var http = new HttpClient { BaseAddress = fixture.Gateway };
        var rotated = "sk-rotated-" + Guid.NewGuid().ToString("N");
        try
        {
            // The file-app key revoked and another added, by a new file renamed over the old one (vim, sed -i, mv).
            await fixture.WriteKeysAsync($$"""{"keys":[{"name":"rotated","key":"{{rotated}}"}]}""");
            await WaitForStatusAsync(http, fixture.FileApiKey, HttpStatusCode.Unauthorized);
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, rotated));
        }
        finally
        {
            await fixture.WriteKeysAsync($$"""{"keys":[{"name":"file-app","key":"{{fixture.FileApiKey}}"}]}""");
            await WaitForStatusAsync(http, fixture.FileApiKey, HttpStatusCode.OK);
        }
    }

    [SkippableFact]
    public async Task WithTheGeneratedEnvironmentFileAndNoKeyUpFailsBeforeAnythingStartsAndSaysWhy()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        // The generated .env as it is (LLMAPP_GATEWAY_BIND=0.0.0.0, no key), on ports of its own: nothing may start.
        var generated = await ComposeGeneration.GenerateAsync();
        var open = new DockerCompose("llmapp-compose-open", Path.Combine(generated, "docker-compose.yml"), Path.Combine(generated, ".env"),
            new Dictionary<string, string>
            {
                ["LLMAPP_MODEL_FILE"] = TestPaths.TestModel,
                ["LLMAPP_GATEWAY_PORT"] = LocalPorts.Free().ToString(CultureInfo.InvariantCulture),
                ["LLMAPP_PROMETHEUS_PORT"] = LocalPorts.Free().ToString(CultureInfo.InvariantCulture),
            });
        try
        {
            var up = await open.RunAsync(["up", "--detach"], TimeSpan.FromMinutes(3));
            var check = await open.RunAsync(["logs", "--no-color", "gateway-check"], TimeSpan.FromSeconds(30));
            var running = await open.RunAsync(["ps", "--services", "--filter", "status=running"], TimeSpan.FromSeconds(30));
            output.WriteLine($"up: {up.ExitCode}\n{up.Output}\ngateway-check: {check.Output}");

            Assert.NotEqual(0, up.ExitCode);
            var line = Assert.Single(check.StandardOutput.Split('\n'), l => l.Contains("gateway: error:", StringComparison.Ordinal));
            Assert.EndsWith("gateway: error: No API key is configured and /v1 would be open to other machines (published on 0.0.0.0): set Auth:Keys or " +
                "Auth:KeysFile (compose: LLMAPP_API_KEY or LLMAPP_API_KEYS_DIR; dotnet run: Llm:ApiKey or Llm:ApiKeysFile), or Auth:AllowAnonymous=true " +
                "(compose: LLMAPP_ALLOW_ANONYMOUS=true) to serve it without keys on purpose.", line.Trim(), StringComparison.Ordinal);
            Assert.Equal("", running.StandardOutput.Trim());
        }
        finally
        {
            await open.RunAsync(["down", "--volumes", "--remove-orphans"], TimeSpan.FromMinutes(2));
        }
    }

    [SkippableFact]
    public async Task AKeysDirectoryWithoutItsFileStopsTheCheckNamingThePath()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        var generated = await ComposeGeneration.GenerateAsync();
        var empty = TestPaths.NewScratchDirectory();
        var check = new DockerCompose("llmapp-compose-nokeys", Path.Combine(generated, "docker-compose.yml"), Path.Combine(generated, ".env"),
            new Dictionary<string, string> { ["LLMAPP_API_KEYS_DIR"] = empty, ["LLMAPP_GATEWAY_BIND"] = "127.0.0.1" });
        try
        {
            var run = await check.RunAsync(["run", "--rm", "--no-deps", "gateway-check"], TimeSpan.FromMinutes(2));

            Assert.NotEqual(0, run.ExitCode);
            Assert.Contains($"llmapp-gateway: error: LLMAPP_API_KEYS_DIR '{empty}' has no keys.json", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            await check.RunAsync(["down", "--volumes", "--remove-orphans"], TimeSpan.FromMinutes(2));
        }
    }

    [SkippableFact]
    public async Task TheGrafanaProfileIsAValidComposeFile()
    {
        // Grafana is not packaged in Debian 12 and no registry answers here: the profile is validated, not run.
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        var config = await fixture.Compose.RequireAsync(["--profile", "grafana", "config"], TimeSpan.FromSeconds(30));
        Assert.Contains("grafana/grafana-oss:", config.StandardOutput, StringComparison.Ordinal);
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient http, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>Waits up to 10 s (the gateway looks at the file each second) for <paramref name="key"/> to get <paramref name="expected"/>.</summary>
    private static async Task WaitForStatusAsync(HttpClient http, string key, HttpStatusCode expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        HttpStatusCode status;
        while ((status = await StatusAsync(http, key)) != expected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the key still gets {(int)status}, not {(int)expected}, 10 s after the keys file changed");
            await Task.Delay(200);
        }
    }

    private static string Request(int maxTokens, bool stream) =>
        $$"""{"model":"{{ComposeStackFixture.ServedModel}}","messages":[{"role":"user","content":"Go on"}],"max_tokens":{{maxTokens}},"temperature":0,"stream":{{(stream ? "true" : "false")}}}""";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static bool AllUp(string targets, params string[] jobs)
    {
        using var document = JsonDocument.Parse(targets);
        var active = document.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray()
            .Select(t => (Job: t.GetProperty("labels").GetProperty("job").GetString(), Health: t.GetProperty("health").GetString())).ToList();
        return jobs.All(job => active.Any(t => t.Job == job && t.Health == "up"));
    }
}
