using System.Text.Json;
using LlmApp.Gateway.OpenAI;
using Microsoft.Extensions.AI;

namespace LlmApp.Tests.Gateway;

/// <summary>A Responses API <c>function_call</c> item's arguments, read as the chat API reads a tool call's.</summary>
public sealed class ResponsesRequestMapperTests
{
    [Theory]
    [InlineData(""","arguments":"{\"city\":\"Paris\"}" """, """{"city":"Paris"}""")]
    [InlineData("", "{}")]
    [InlineData(""","arguments":null""", "{}")]
    [InlineData(""","arguments":"" """, "{}")]
    [InlineData(""","arguments":"  " """, "{}")]
    public void AFunctionCallsArgumentsGoOnAsWrittenAndNoneAreAnEmptyObject(string arguments, string sent)
    {
        Assert.True(ResponsesRequestMapper.TryMap(Body(arguments), null, out var mapped, out var error), error?.Message);

        var call = Assert.IsType<FunctionCallContent>(Assert.Single(mapped.Messages[0].Contents));
        Assert.Equal(("c1", "weather"), (call.CallId, call.Name));
        Assert.Equal(sent, ToolCallArguments.Text(call));
        Assert.NotNull(call.Arguments);
    }

    [Theory]
    [InlineData(""","arguments":"{\"city\":" """)]
    [InlineData(""","arguments":"[1]" """)]
    [InlineData(""","arguments":{"city":"Paris"}""")]
    [InlineData(""","arguments":7""")]
    public void ArgumentsThatAreNotAJsonObjectInAStringAreRefusedNamingTheItem(string arguments)
    {
        Assert.False(ResponsesRequestMapper.TryMap(Body(arguments), null, out _, out var error));

        Assert.Equal("input[0].arguments", error.Param);
        Assert.Contains("JSON object encoded as a string", error.Message, StringComparison.Ordinal);
    }

    private static JsonElement Body(string arguments)
    {
        using var document = JsonDocument.Parse($$"""
            {"model":"m","input":[
              {"type":"function_call","call_id":"c1","name":"weather"{{arguments}} },
              {"type":"function_call_output","call_id":"c1","output":"sunny"}]}
            """);
        return document.RootElement.Clone();
    }
}
