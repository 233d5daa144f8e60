using System.Text.Json;
using LlmApp.Gateway.OpenAI;
using Microsoft.Extensions.AI;

namespace LlmApp.Tests.Gateway;

public sealed class ChatRequestMapperTests
{
    [Fact]
    public void TextPartsAreJoinedAndDeveloperMapsToSystem()
    {
        var request = Parse("""
            {"model":"m","messages":[
              {"role":"developer","content":"Be brief."},
              {"role":"user","content":[{"type":"text","text":"Hello, "},{"type":"text","text":"world"}]}],
             "max_completion_tokens":5,"max_tokens":9,"stop":"\n","seed":7,"temperature":0.5,"top_p":0.9}
            """);

        Assert.True(ChatRequestMapper.TryMap(request, null, out var mapped, out _));

        Assert.Equal(ChatRole.System, mapped.Messages[0].Role);
        Assert.Equal("Hello, world", mapped.Messages[1].Text);
        Assert.Equal(5, mapped.Options.MaxOutputTokens);
        Assert.Equal(["\n"], mapped.Options.StopSequences);
        Assert.Equal(7, mapped.Options.Seed);
        Assert.Equal(0.5f, mapped.Options.Temperature);
        Assert.Equal(0.9f, mapped.Options.TopP);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":42}]}""", "messages[0].content")]
    [InlineData("""{"model":"m","messages":[{"content":"hi"}]}""", "messages[0].role")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", "messages[0].content")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"stop":["a","b","c","d","e"]}""", "stop")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"top_p":1.5}""", "top_p")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"n":2}""", "n")]
    public void InvalidRequestsNameTheParameter(string json, string param)
    {
        Assert.False(ChatRequestMapper.TryMap(Parse(json), null, out _, out var error));

        Assert.Equal(param, error.Param);
    }

    // The gateway's own source-generated context, so that the tests read requests exactly as the endpoint does.
    private static ChatCompletionRequest Parse(string json) => JsonSerializer.Deserialize(json, OpenAIJsonContext.Default.ChatCompletionRequest)!;
}
