using System.Net;
using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Authentication;

/// <summary>
/// llama-server's own key, which the AppHost generates at each start: without it llama-server answers nothing but its
/// health, so the gateway (which sends it) is the only way in; its metrics, props and slots are behind it too.
/// </summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class BackendKeyTests(GatewayAppFixture fixture)
{
    [Theory]
    [InlineData("/slots")]
    [InlineData("/props")]
    [InlineData("/metrics")]
    [InlineData("/v1/chat/completions")]
    public async Task LlamaServerRefusesARequestWithoutItsKey(string path)
    {
        using var plain = new HttpClient { BaseAddress = fixture.Backend.BaseAddress };
        using var request = new HttpRequestMessage(path.StartsWith("/v1", StringComparison.Ordinal) ? HttpMethod.Post : HttpMethod.Get, path);

        using var response = await plain.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task WithItsKeyLlamaServerAnswersAndItsHealthNeedsNone()
    {
        using var plain = new HttpClient { BaseAddress = fixture.Backend.BaseAddress };

        using var slots = await fixture.Backend.GetAsync("/slots");
        using var health = await plain.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, slots.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.True(fixture.BackendKey.Length >= 32, "the generated key is short");
    }
}
