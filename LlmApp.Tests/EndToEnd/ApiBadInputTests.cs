using System.Net;
using System.Text;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LlmApp.Tests.EndToEnd;

/// <summary>
/// Bad requests to the Responses and Messages APIs, among them what a fuzzing of every field with values of the wrong
/// type found answered with 500: each gets a 4xx in its API's error shape (OpenAI's or Anthropic's), streamed or not,
/// and the gateway keeps serving.
/// </summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class ApiBadInputTests(GatewayAppFixture fixture, ITestOutputHelper output)
{
    private const string M = GatewayAppFixture.ServedModel;
    private const string Tool = """{"type":"function","name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}""";
    private const string AnthropicTool = """{"name":"f","input_schema":{"type":"object","properties":{"a":{"type":"string"}}}}""";

    public static readonly TheoryData<string, string, string> ResponsesRequests = new()
    {
        { "text a string", "text", $$"""{"model":"{{M}}","input":"hi","text":"x"}""" },
        { "text an array", "text", $$"""{"model":"{{M}}","input":"hi","text":[1]}""" },
        { "stream a string", "stream", $$"""{"model":"{{M}}","input":"hi","stream":"yes"}""" },
        { "store a number", "store", $$"""{"model":"{{M}}","input":"hi","store":1}""" },
        { "background", "background", $$"""{"model":"{{M}}","input":"hi","background":true}""" },
        { "metadata a string", "metadata", $$"""{"model":"{{M}}","input":"hi","metadata":"x"}""" },
        { "function call arguments not JSON", "input[0].arguments", $$"""{"model":"{{M}}","input":[{"type":"function_call","call_id":"c","name":"f","arguments":"{\"a\":"},{"type":"function_call_output","call_id":"c","output":"r"}],"tools":[{{Tool}}]}""" },
        { "function call arguments an object", "input[0].arguments", $$"""{"model":"{{M}}","input":[{"type":"function_call","call_id":"c","name":"f","arguments":{"a":1} },{"type":"function_call_output","call_id":"c","output":"r"}],"tools":[{{Tool}}]}""" },
        { "a lone surrogate as the model", "Unicode", """{"model":"\ud800","input":"hi"}""" },
        { "a lone surrogate in a tool's schema", "Unicode", $$"""{"model":"{{M}}","input":"hi","tools":[{"type":"function","name":"f","parameters":{"type":"\ud800"} }]}""" },
        { "a lone surrogate in a function call's arguments", "Unicode", $$"""{"model":"{{M}}","input":[{"type":"function_call","call_id":"c","name":"f","arguments":"{\"a\":\"\udc00\"}"}],"tools":[{{Tool}}]}""" },
    };

    public static readonly TheoryData<string, string, string> MessagesRequests = new()
    {
        { "tool_choice a number", "tool_choice", $$"""{"model":"{{M}}","max_tokens":2,"messages":[{"role":"user","content":"hi"}],"tools":[{{AnthropicTool}}],"tool_choice":5}""" },
        { "tool_choice a string", "tool_choice", $$"""{"model":"{{M}}","max_tokens":2,"messages":[{"role":"user","content":"hi"}],"tools":[{{AnthropicTool}}],"tool_choice":"auto"}""" },
        { "stream a number", "stream", $$"""{"model":"{{M}}","max_tokens":2,"messages":[{"role":"user","content":"hi"}],"stream":1}""" },
        { "temperature above 1", "temperature", $$"""{"model":"{{M}}","max_tokens":2,"messages":[{"role":"user","content":"hi"}],"temperature":1.5}""" },
        { "a lone surrogate as the model", "Unicode", """{"model":"\ud800","max_tokens":2,"messages":[{"role":"user","content":"hi"}]}""" },
        { "a lone surrogate in a tool's schema", "Unicode", $$"""{"model":"{{M}}","max_tokens":2,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":{"type":"\ud800"} }]}""" },
        { "a lone surrogate in a tool_use input", "Unicode", $$"""{"model":"{{M}}","max_tokens":2,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{"a":"\ud800"} }]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"r"}]}],"tools":[{{AnthropicTool}}]}""" },
    };

    [Theory]
    [MemberData(nameof(ResponsesRequests))]
    public async Task ABadResponsesRequestIsA400InOpenAIsShapeStreamedOrNot(string name, string named, string body)
    {
        foreach (var stream in new[] { false, true })
        {
            var (status, error) = await PostAsync("/v1/responses", WithStream(body, stream));

            Assert.True(status == HttpStatusCode.BadRequest, $"{name}, stream {stream}: {status} {error}");
            using var json = JsonDocument.Parse(error);
            var message = json.RootElement.GetProperty("error").GetProperty("message").GetString()!;
            Assert.Equal("invalid_request_error", json.RootElement.GetProperty("error").GetProperty("type").GetString());
            Assert.Contains(named, message, StringComparison.Ordinal);
        }

        await StillServesAsync();
    }

    [Theory]
    [MemberData(nameof(MessagesRequests))]
    public async Task ABadMessagesRequestIsA400InAnthropicsShapeStreamedOrNot(string name, string named, string body)
    {
        foreach (var stream in new[] { false, true })
        {
            var (status, error) = await PostAsync("/v1/messages", WithStream(body, stream));

            Assert.True(status == HttpStatusCode.BadRequest, $"{name}, stream {stream}: {status} {error}");
            using var json = JsonDocument.Parse(error);
            Assert.Equal("error", json.RootElement.GetProperty("type").GetString());
            Assert.Equal("invalid_request_error", json.RootElement.GetProperty("error").GetProperty("type").GetString());
            Assert.Contains(named, json.RootElement.GetProperty("error").GetProperty("message").GetString()!, StringComparison.Ordinal);
        }

        // count_tokens reads the same fields, but neither sampling nor streaming.
        if (named is not ("temperature" or "stream"))
        {
            var (counted, _) = await PostAsync("/v1/messages/count_tokens", body);
            Assert.Equal(HttpStatusCode.BadRequest, counted);
        }

        await StillServesAsync();
    }

    /// <summary>The body with <c>"stream"</c> added, unless it sets one itself.</summary>
    private static string WithStream(string body, bool stream) =>
        body.Contains("\"stream\"", StringComparison.Ordinal) ? body : body[..^1] + $",\"stream\":{(stream ? "true" : "false")}}}";

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await fixture.Gateway.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        output.WriteLine($"{path} {(int)response.StatusCode} {text}");
        return (response.StatusCode, text);
    }

    private async Task StillServesAsync()
    {
        var (status, _) = await PostAsync("/v1/responses", $$"""{"model":"{{M}}","input":"still there?","max_output_tokens":2}""");
        Assert.Equal(HttpStatusCode.OK, status);
    }
}
