using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace LlmApp.Tests.Authentication;

/// <summary>API keys on <c>/v1</c>, against the real stack: the AppHost's key and keys file, the gateway's 401s, and the file changing while it runs.</summary>
[Collection(ApiKeyAppCollectionDefinition.Name)]
public sealed class ApiKeyTests(ApiKeyAppFixture fixture)
{
    private const string ReloadFailures = "llmapp_gateway_api_keys_reload_failures_total";

    // Long enough for a reload (polled every second) on a busy 2-core box.
    private static readonly TimeSpan s_reloadTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task ARequestWithoutAKeyGets401InOpenAIShapeWithABearerChallenge()
    {
        using var response = await fixture.Gateway.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = body.RootElement.GetProperty("error");
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Contains("Authorization", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Basic dXNlcjpwYXNzd29yZA==")]
    [InlineData("Bearer ")]
    [InlineData("Bearer")]
    [InlineData("Bearer sk-not-a-key-of-this-server")]
    [InlineData("sk-a-key-without-its-scheme")]
    public async Task AMalformedOrWrongAuthorizationHeaderGets401(string authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation("Authorization", authorization);

        using var response = await fixture.Gateway.SendAsync(request);

        await AssertUnauthorizedAsync(response);
    }

    [Fact]
    public async Task TheAppHostKeyListsModelsAndCompletesAChat()
    {
        using var models = await fixture.Gateway.SendAsync(ApiKeyAppFixture.Request(HttpMethod.Get, "/v1/models", fixture.DefaultKey));
        using var chat = await PostChatAsync(fixture.DefaultKey);

        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
    }

    [Fact]
    public async Task AKeyFromTheFileIsTakenAndADisabledOneIsRefused()
    {
        using var enabled = await PostChatAsync(fixture.FileKey);
        using var disabled = await PostChatAsync(fixture.DisabledKey);

        Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        await AssertUnauthorizedAsync(disabled);
    }

    [Theory]
    [InlineData("api_key")]
    [InlineData("key")]
    public async Task AValidKeyInTheQueryStringIsRefusedEvenWithAValidHeader(string parameter)
    {
        using var alone = await fixture.Gateway.GetAsync($"/v1/models?{parameter}={Uri.EscapeDataString(fixture.DefaultKey)}");
        using var withHeader = await fixture.Gateway.SendAsync(
            ApiKeyAppFixture.Request(HttpMethod.Get, $"/v1/models?{parameter}={Uri.EscapeDataString(fixture.DefaultKey)}", fixture.DefaultKey));

        foreach (var response in new[] { alone, withHeader })
        {
            var error = await AssertUnauthorizedAsync(response);
            Assert.Contains("Authorization header", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task HealthAndReadinessNeedNoKey(string path)
    {
        using var response = await fixture.Gateway.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task MetricsAreServedWithoutAKeyOnTheManagementPortAndNotOnTheApisPort()
    {
        using var management = await fixture.Management.GetAsync("/metrics");
        using var api = await fixture.Gateway.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, management.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
    }

    [Fact]
    public async Task TheApisPortDoesNotServeMetricsWhateverTheHostHeaderSays()
    {
        var managementPort = fixture.Management.BaseAddress!.Port;
        foreach (var host in new[] { $"localhost:{managementPort}", $"127.0.0.1:{managementPort}", $"gateway:{managementPort}" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            request.Headers.Host = host;

            using var response = await fixture.Gateway.SendAsync(request);

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.DoesNotContain("gen_ai_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // And the management port serves them whatever the Host header says.
        using var other = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        other.Headers.Host = $"localhost:{fixture.Gateway.BaseAddress!.Port}";
        using var metrics = await fixture.Management.SendAsync(other);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
    }

    [Fact]
    public async Task AVeryLongAuthorizationHeaderIsRefusedWithoutAServerError()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + new string('k', 16 * 1024));

        using var response = await fixture.Gateway.SendAsync(request);

        Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.RequestHeaderFieldsTooLarge, $"status {(int)response.StatusCode}");
    }

    [Fact]
    public async Task KeysFileChangesTakeEffectWhileTheGatewayRuns()
    {
        var added = ApiKeyAppFixture.NewKey();
        try
        {
            await WaitForStatusAsync(added, HttpStatusCode.Unauthorized);

            fixture.WriteKeysFile([.. fixture.InitialFileKeys, new FileKey("added", added)]);
            await WaitForStatusAsync(added, HttpStatusCode.OK);

            fixture.WriteKeysFile(fixture.InitialFileKeys);
            await WaitForStatusAsync(added, HttpStatusCode.Unauthorized);

            var failuresBefore = await ReloadFailureCountAsync();
            fixture.WriteKeysFileText("""{"keys":[{"name":"broken", """);
            var deadline = DateTime.UtcNow + s_reloadTimeout;
            while (await ReloadFailureCountAsync() <= failuresBefore)
            {
                Assert.True(DateTime.UtcNow < deadline, "the reload failure was not counted on /metrics");
                await Task.Delay(200);
            }

            Assert.True(await ReloadFailureCountAsync() >= 1);
            // The keys before the broken file are still in force: the file's, and the AppHost's.
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(fixture.FileKey));
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(fixture.DefaultKey));
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(added));
        }
        finally
        {
            fixture.WriteKeysFile(fixture.InitialFileKeys);
            await WaitForStatusAsync(fixture.FileKey, HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task AKeyReplacedInPlaceByOneAsLongWithTheWriteTimeKeptIsRevoked()
    {
        string first = ApiKeyAppFixture.NewKey(), second = ApiKeyAppFixture.NewKey();
        Assert.Equal(first.Length, second.Length);
        try
        {
            fixture.WriteKeysFile([.. fixture.InitialFileKeys, new FileKey("rotated", first)]);
            await WaitForStatusAsync(first, HttpStatusCode.OK);
            var written = File.GetLastWriteTimeUtc(fixture.KeysFile);
            var length = new FileInfo(fixture.KeysFile).Length;

            // As cp -p, rsync -t or tar leave it: the same file, the same length, the same write time, another key.
            await File.WriteAllTextAsync(fixture.KeysFile, (await File.ReadAllTextAsync(fixture.KeysFile)).Replace(first, second, StringComparison.Ordinal));
            File.SetLastWriteTimeUtc(fixture.KeysFile, written);
            Assert.Equal(length, new FileInfo(fixture.KeysFile).Length);

            await WaitForStatusAsync(first, HttpStatusCode.Unauthorized);
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(second));
        }
        finally
        {
            fixture.WriteKeysFile(fixture.InitialFileKeys);
            await WaitForStatusAsync(fixture.FileKey, HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task KeysReachNeitherLogsNorMetricsAndTheRequestLogNamesTheKey()
    {
        var wrong = ApiKeyAppFixture.NewKey();
        string? requestId = null;

        var lines = await GatewayLogs.WhileAsync(fixture.App,
            async () =>
            {
                using var served = await PostChatAsync(fixture.DefaultKey);
                Assert.Equal(HttpStatusCode.OK, served.StatusCode);
                requestId = Assert.Single(served.Headers.GetValues("x-request-id"));
                using var refused = await PostChatAsync(wrong);
                await AssertUnauthorizedAsync(refused);
                using var inQuery = await fixture.Gateway.GetAsync($"/v1/models?api_key={wrong}");
                await AssertUnauthorizedAsync(inQuery);
            },
            until: lines => requestId is not null && lines.Any(l => l.Contains(requestId, StringComparison.Ordinal))
                && lines.Count(l => l.Contains("Refused /v1/", StringComparison.Ordinal)) >= 2);
        var metrics = await fixture.Management.GetStringAsync("/metrics");

        var requestLine = Assert.Single(lines, l => l.Contains($"chat.completion {requestId} ", StringComparison.Ordinal));
        Assert.Contains("key=default", requestLine, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains("reason=unknown_key", StringComparison.Ordinal) && l.Contains("remote=", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("reason=key_in_query", StringComparison.Ordinal));
        foreach (var key in new[] { fixture.DefaultKey, fixture.FileKey, wrong })
        {
            Assert.DoesNotContain(lines, l => l.Contains(key, StringComparison.Ordinal));
            Assert.DoesNotContain(key, metrics, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheOpenAISdkWorksWithTheKeyAndGets401WithoutIt()
    {
        var completion = (await ChatClient(fixture.DefaultKey).CompleteChatAsync(
            [new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 2 })).Value;
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => ChatClient("sk-not-this-one").CompleteChatAsync([new UserChatMessage("Hello")]));

        Assert.Equal(GatewayAppFixture.ServedModel, completion.Model);
        Assert.Equal(401, refused.Status);
    }

    [Fact]
    public async Task TheNodeSdkWorksWithTheKeyAndGetsAnAuthenticationErrorWithoutIt() =>
        await NodeSdk.RunAsync("auth.test.mjs", fixture.GatewayBaseAddress, new Dictionary<string, string>
        {
            ["LLMAPP_API_KEY"] = fixture.DefaultKey,
            ["LLMAPP_LIMITED_KEY"] = fixture.NodeBurstKey,
        });

    private ChatClient ChatClient(string key) =>
        new(GatewayAppFixture.ServedModel, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(fixture.GatewayBaseAddress, "v1") });

    private Task<HttpResponseMessage> PostChatAsync(string? key)
    {
        var request = ApiKeyAppFixture.Request(HttpMethod.Post, "/v1/chat/completions", key);
        request.Content = new StringContent(
            $$"""{"model":"{{GatewayAppFixture.ServedModel}}","messages":[{"role":"user","content":"Hello"}],"max_tokens":2}""", Encoding.UTF8, "application/json");
        return fixture.Gateway.SendAsync(request);
    }

    private async Task<HttpStatusCode> StatusAsync(string key)
    {
        using var response = await fixture.Gateway.SendAsync(ApiKeyAppFixture.Request(HttpMethod.Get, "/v1/models", key));
        return response.StatusCode;
    }

    private async Task WaitForStatusAsync(string key, HttpStatusCode expected)
    {
        var deadline = DateTime.UtcNow + s_reloadTimeout;
        HttpStatusCode status;
        while ((status = await StatusAsync(key)) != expected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the key still gets {(int)status}, not {(int)expected}, {s_reloadTimeout.TotalSeconds} s after the file changed");
            await Task.Delay(200);
        }
    }

    private async Task<double> ReloadFailureCountAsync()
    {
        var metrics = await fixture.Management.GetStringAsync("/metrics");
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(ReloadFailures, StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line.Split(' ')[^1], CultureInfo.InvariantCulture);
    }

    private static async Task<JsonElement> AssertUnauthorizedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = body.RootElement.GetProperty("error").Clone();
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
        return error;
    }
}
