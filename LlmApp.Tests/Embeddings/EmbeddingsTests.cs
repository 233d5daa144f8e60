using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;
using OpenAI.Embeddings;

namespace LlmApp.Tests.Embeddings;

/// <summary>
/// <c>/v1/embeddings</c> through the real AppHost: the official .NET SDK against the gateway, with a second real
/// llama-server (the tiny model, mean pooling) behind it, and that server asked directly for the reference vectors.
/// </summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class EmbeddingsTests(GatewayAppFixture fixture)
{
    [Fact]
    public async Task TheDotnetSdkGetsTheVectorsTheEmbeddingServerGives()
    {
        string[] inputs = ["The cat sat on the mat.", "Retrieval needs vectors."];

        var result = (await fixture.CreateEmbeddingClient().GenerateEmbeddingsAsync(inputs)).Value;
        var direct = await DirectAsync(inputs);

        Assert.Equal(2, result.Count);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(i, result[i].Index);
            Assert.Equal(direct.Vectors[i], result[i].ToFloats().ToArray());
        }

        Assert.Equal(direct.PromptTokens, result.Usage.InputTokenCount);
        Assert.Equal(direct.PromptTokens, result.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task TokenIdsPassThroughToTheEmbeddingServer()
    {
        int[][] ids = [[1, 2, 3], [4, 5]];

        var result = (await fixture.CreateEmbeddingClient().GenerateEmbeddingsAsync(ids.Select(t => new ReadOnlyMemory<int>(t)))).Value;
        var direct = await DirectAsync(ids);

        Assert.Equal(direct.Vectors[0], result[0].ToFloats().ToArray());
        Assert.Equal(direct.Vectors[1], result[1].ToFloats().ToArray());
        Assert.Equal(5, result.Usage.InputTokenCount);
    }

    [Fact]
    public async Task DimensionsShortensToAUnitVector()
    {
        var result = (await fixture.CreateEmbeddingClient().GenerateEmbeddingAsync("shorter", new EmbeddingGenerationOptions { Dimensions = 4 })).Value;

        var vector = result.ToFloats().ToArray();
        Assert.Equal(4, vector.Length);
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 3);
    }

    [Fact]
    public async Task DimensionsAboveTheModelsAreRefused()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() =>
            fixture.CreateEmbeddingClient().GenerateEmbeddingAsync("too many", new EmbeddingGenerationOptions { Dimensions = 9 }));

        Assert.Equal(400, error.Status);
        Assert.Contains("more than the 8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnInputLongerThanTheBatchIsA400NamingTheLimit()
    {
        using var response = await fixture.Gateway.PostAsJsonAsync("/v1/embeddings",
            new { model = GatewayAppFixture.EmbeddingModel, input = string.Concat(Enumerable.Repeat("hello ", 200)) });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = body.RootElement.GetProperty("error");
        Assert.Equal("input", error.GetProperty("param").GetString());
        Assert.Contains($"{GatewayAppFixture.EmbeddingBatchSize} tokens", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"tiny-embed"}""", "input")]
    [InlineData("""{"model":"tiny-embed","input":""}""", "input")]
    [InlineData("""{"model":"tiny-embed","input":[]}""", "input")]
    [InlineData("""{"model":"tiny-embed","input":[1,"a"]}""", "input")]
    [InlineData("""{"model":"tiny-embed","input":[["a"]]}""", "input[0]")]
    [InlineData("""{"model":"tiny-embed","input":"a","encoding_format":"int8"}""", "encoding_format")]
    [InlineData("""{"model":"tiny-embed","input":"a","dimensions":0}""", "dimensions")]
    [InlineData("""{"model":"tiny-embed","input":"a","dimensions":"x"}""", "dimensions")]
    public async Task BadInputIsA400NamingTheParameter(string body, string param)
    {
        using var response = await fixture.Gateway.PostAsync("/v1/embeddings", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(param, error.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task TheChatModelIsNotAnEmbeddingModel()
    {
        using var response = await fixture.Gateway.PostAsJsonAsync("/v1/embeddings", new { model = GatewayAppFixture.ServedModel, input = "a" });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("model_not_found", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmbeddingsAreMeasuredAsTheirOwnOperation()
    {
        await fixture.CreateEmbeddingClient().GenerateEmbeddingAsync("measured");

        var metrics = await fixture.Management.GetStringAsync("/metrics");

        Assert.Contains(metrics.Split('\n'), line =>
            line.StartsWith("gen_ai_server_request_duration_seconds_count{", StringComparison.Ordinal) && line.Contains("gen_ai_operation_name=\"embeddings\"", StringComparison.Ordinal));
        Assert.Contains(metrics.Split('\n'), line =>
            line.StartsWith("gen_ai_client_token_usage_count{", StringComparison.Ordinal) && line.Contains("gen_ai_operation_name=\"embeddings\"", StringComparison.Ordinal));
    }

    private async Task<(float[][] Vectors, int PromptTokens)> DirectAsync(object input)
    {
        using var response = await fixture.EmbeddingsBackend!.PostAsJsonAsync("/v1/embeddings", new { input, encoding_format = "float" });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var vectors = body.RootElement.GetProperty("data").EnumerateArray()
            .OrderBy(d => d.GetProperty("index").GetInt32())
            .Select(d => d.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray())
            .ToArray();
        return (vectors, body.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }
}
