using System.Net;
using System.Text;
using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Authentication;

/// <summary>The shared stack has no key configured: <c>/v1</c> stays open, as before keys existed, and the gateway says so once.</summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class NoApiKeyTests(GatewayAppFixture fixture)
{
    [Fact]
    public async Task WithoutKeysTheGatewayServesAnyoneAndWarnsOnceAtStart()
    {
        string? requestId = null;

        var lines = await GatewayLogs.WhileAsync(fixture.App,
            async () =>
            {
                using var response = await fixture.Gateway.PostAsync("/v1/chat/completions", new StringContent(
                    $$"""{"model":"{{GatewayAppFixture.ServedModel}}","messages":[{"role":"user","content":"Hello"}],"max_tokens":2}""", Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                requestId = Assert.Single(response.Headers.GetValues("x-request-id"));
            },
            until: lines => requestId is not null && lines.Any(l => l.Contains(requestId, StringComparison.Ordinal)));

        Assert.Single(lines, l => l.Contains("/v1 is open to anyone who can reach this port", StringComparison.Ordinal));
        Assert.EndsWith(" key=-", Assert.Single(lines, l => l.Contains($"chat.completion {requestId} ", StringComparison.Ordinal)).TrimEnd(), StringComparison.Ordinal);
    }
}
