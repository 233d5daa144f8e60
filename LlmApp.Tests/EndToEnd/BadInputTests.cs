using System.Net;
using System.Text;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LlmApp.Tests.EndToEnd;

/// <summary>A table of bad requests: every one gets a 4xx OpenAI error object, none a 5xx, and the gateway keeps serving.</summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class BadInputTests(GatewayAppFixture fixture, ITestOutputHelper output)
{
    private const string M = GatewayAppFixture.ServedModel;
    private const string Hi = """[{"role":"user","content":"hi"}]""";

    public static readonly TheoryData<string, string, HttpStatusCode> BadRequests = new()
    {
        { "empty body", "", HttpStatusCode.BadRequest },
        { "malformed JSON", "{not json", HttpStatusCode.BadRequest },
        { "body is an array", "[]", HttpStatusCode.BadRequest },
        { "body is a string", "\"hello\"", HttpStatusCode.BadRequest },
        { "body is null", "null", HttpStatusCode.BadRequest },
        { "body is a number", "42", HttpStatusCode.BadRequest },
        { "model missing", $$$$"""{"messages":{{{{Hi}}}}}""", HttpStatusCode.BadRequest },
        { "model not a string", $$$$"""{"model":123,"messages":{{{{Hi}}}}}""", HttpStatusCode.BadRequest },
        { "model not served", $$$$"""{"model":"gpt-4o","messages":{{{{Hi}}}}}""", HttpStatusCode.NotFound },
        { "messages missing", $$$$"""{"model":"{{{{M}}}}"}""", HttpStatusCode.BadRequest },
        { "messages empty", $$$$"""{"model":"{{{{M}}}}","messages":[]}""", HttpStatusCode.BadRequest },
        { "messages a string", $$$$"""{"model":"{{{{M}}}}","messages":"hi"}""", HttpStatusCode.BadRequest },
        { "messages an object", $$$$"""{"model":"{{{{M}}}}","messages":{}}""", HttpStatusCode.BadRequest },
        { "message null", $$$$"""{"model":"{{{{M}}}}","messages":[null]}""", HttpStatusCode.BadRequest },
        { "role missing", $$$$"""{"model":"{{{{M}}}}","messages":[{"content":"hi"}]}""", HttpStatusCode.BadRequest },
        { "role unknown", $$$$"""{"model":"{{{{M}}}}","messages":[{"role":"wizard","content":"hi"}]}""", HttpStatusCode.BadRequest },
        { "role a number", $$$$"""{"model":"{{{{M}}}}","messages":[{"role":5,"content":"hi"}]}""", HttpStatusCode.BadRequest },
        { "content a number", $$$$"""{"model":"{{{{M}}}}","messages":[{"role":"user","content":42}]}""", HttpStatusCode.BadRequest },
        { "content null for user", $$$$"""{"model":"{{{{M}}}}","messages":[{"role":"user","content":null}]}""", HttpStatusCode.BadRequest },
        { "content part without type", $$$$"""{"model":"{{{{M}}}}","messages":[{"role":"user","content":[{"text":"x"}]}]}""", HttpStatusCode.BadRequest },
        { "content part an image", $$$$"""{"model":"{{{{M}}}}","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://x"}}]}]}""", HttpStatusCode.BadRequest },
        { "tool message without tool_call_id", $$$$"""{"model":"{{{{M}}}}","messages":[{"role":"tool","content":"42"}]}""", HttpStatusCode.BadRequest },
        { "tool call without name", $$$$"""{"model":"{{{{M}}}}","messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"arguments":"{}"}}]}]}""", HttpStatusCode.BadRequest },
        { "tool call arguments not JSON", $$$$"""{"model":"{{{{M}}}}","messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}""", HttpStatusCode.BadRequest },
        { "temperature above 2", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"temperature":3}""", HttpStatusCode.BadRequest },
        { "temperature negative", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"temperature":-1}""", HttpStatusCode.BadRequest },
        { "temperature a string", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"temperature":"hot"}""", HttpStatusCode.BadRequest },
        { "top_p above 1", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"top_p":1.5}""", HttpStatusCode.BadRequest },
        { "max_tokens zero", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"max_tokens":0}""", HttpStatusCode.BadRequest },
        { "max_tokens negative", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"max_tokens":-5}""", HttpStatusCode.BadRequest },
        { "max_tokens beyond the context", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"max_tokens":1000000}""", HttpStatusCode.BadRequest },
        { "max_tokens a string", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"max_tokens":"many"}""", HttpStatusCode.BadRequest },
        { "max_tokens a fraction", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"max_tokens":2.5}""", HttpStatusCode.BadRequest },
        { "max_completion_tokens zero", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"max_completion_tokens":0}""", HttpStatusCode.BadRequest },
        { "n is 2", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"n":2}""", HttpStatusCode.BadRequest },
        { "stop a number", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"stop":5}""", HttpStatusCode.BadRequest },
        { "stop five strings", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"stop":["a","b","c","d","e"]}""", HttpStatusCode.BadRequest },
        { "presence_penalty above 2", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"presence_penalty":3}""", HttpStatusCode.BadRequest },
        { "frequency_penalty below -2", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"frequency_penalty":-3}""", HttpStatusCode.BadRequest },
        { "seed a string", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"seed":"x"}""", HttpStatusCode.BadRequest },
        { "response_format unknown type", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"response_format":{"type":"xml"}}""", HttpStatusCode.BadRequest },
        { "response_format json_schema without schema", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"response_format":{"type":"json_schema"}}""", HttpStatusCode.BadRequest },
        { "response_format a string", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"response_format":"json"}""", HttpStatusCode.BadRequest },
        { "tools a string", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"tools":"x"}""", HttpStatusCode.BadRequest },
        { "tool without function", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"tools":[{"type":"function"}]}""", HttpStatusCode.BadRequest },
        { "tool with an invalid name", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"tools":[{"type":"function","function":{"name":"get weather!"}}]}""", HttpStatusCode.BadRequest },
        { "tool parameters a string", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"tools":[{"type":"function","function":{"name":"f","parameters":"x"}}]}""", HttpStatusCode.BadRequest },
        { "tool_choice unknown", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"sometimes"}""", HttpStatusCode.BadRequest },
        { "tool_choice names a missing function", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}}""", HttpStatusCode.BadRequest },
        { "tool_choice required without tools", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"tool_choice":"required"}""", HttpStatusCode.BadRequest },
        { "stream a string", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"stream":"yes"}""", HttpStatusCode.BadRequest },
        { "stream_options without stream", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"stream_options":{"include_usage":true}}""", HttpStatusCode.BadRequest },
        { "logprobs not a boolean", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"logprobs":"yes"}""", HttpStatusCode.BadRequest },
        { "top_logprobs without logprobs", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"top_logprobs":3}""", HttpStatusCode.BadRequest },
        { "top_logprobs above 20", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"logprobs":true,"top_logprobs":21}""", HttpStatusCode.BadRequest },
        { "parallel_tool_calls a string", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"parallel_tool_calls":"x"}""", HttpStatusCode.BadRequest },
        { "user a number", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"user":5}""", HttpStatusCode.BadRequest },
        { "a lone high surrogate in content", $$$$"""{"model":"{{{{M}}}}","messages":[{"role":"user","content":"hi \ud800 there"}]}""", HttpStatusCode.BadRequest },
        { "a lone low surrogate in content", $$$$"""{"model":"{{{{M}}}}","messages":[{"role":"user","content":"\udc00"}]}""", HttpStatusCode.BadRequest },
        { "a lone surrogate in a content part", $$$$"""{"model":"{{{{M}}}}","messages":[{"role":"user","content":[{"type":"text","text":"\ud83d"}]}]}""", HttpStatusCode.BadRequest },
        { "a lone surrogate in stop", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"stop":["\ud800"]}""", HttpStatusCode.BadRequest },
        { "a lone surrogate in a tool_choice name", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"\ud800"}}}""", HttpStatusCode.BadRequest },
        { "a lone surrogate in a response_format name", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"response_format":{"type":"json_schema","json_schema":{"name":"\ud800","schema":{"type":"object"}}} }""", HttpStatusCode.BadRequest },
        { "a lone surrogate in a tool call's arguments", $$$$"""{"model":"{{{{M}}}}","messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":\"\ud800\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"x"}]}""", HttpStatusCode.BadRequest },
        { "a lone surrogate in a tool's schema", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"\ud800"} } } } }]}""", HttpStatusCode.BadRequest },
        { "a lone low surrogate in a response_format schema", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"\udc00"} } } }""", HttpStatusCode.BadRequest },
        { "a stop string of 1,000 characters", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"stop":"{{{{new string('x', 1000)}}}}"}""", HttpStatusCode.BadRequest },
        { "a tool schema 33 objects deep", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"tools":[{"type":"function","function":{"name":"f","parameters":{{{{Nested(33)}}}}}}],"tool_choice":"auto"}""", HttpStatusCode.BadRequest },
        { "a tool schema 29 properties deep", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"tools":[{"type":"function","function":{"name":"f","parameters":{{{{NestedProperties(29)}}}}}}],"tool_choice":"auto"}""", HttpStatusCode.BadRequest },
        { "a response_format schema 29 properties deep", $$$$"""{"model":"{{{{M}}}}","messages":{{{{Hi}}}},"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{{{{NestedProperties(29)}}}}}}}""", HttpStatusCode.BadRequest },
    };

    /// <summary>A JSON Schema of arrays <paramref name="levels"/> deep.</summary>
    private static string Nested(int levels) =>
        Enumerable.Range(0, levels).Aggregate("""{"type":"string"}""", (inner, _) => """{"type":"array","items":""" + inner + "}");

    /// <summary>A JSON Schema of objects, each the one property of the one around it, <paramref name="levels"/> deep (two JSON levels each).</summary>
    private static string NestedProperties(int levels) =>
        Enumerable.Range(0, levels).Aggregate("""{"type":"string"}""", (inner, _) => """{"type":"object","properties":{"a":""" + inner + "}}");

    [Fact]
    public async Task EveryBadInputGetsA4xxOpenAIErrorAndTheGatewayKeepsServing()
    {
        var fourHundreds = 0;
        var failures = new List<string>();
        foreach (var row in BadRequests)
        {
            var (name, body, expected) = ((string)row[0], (string)row[1], (HttpStatusCode)row[2]);
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await fixture.Gateway.PostAsync("/v1/chat/completions", content);
            var text = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            if (status is >= 400 and < 500)
            {
                fourHundreds++;
            }

            if (response.StatusCode != expected || !IsOpenAIError(text))
            {
                failures.Add($"{name}: {status} {text}");
            }
        }

        output.WriteLine($"{BadRequests.Count} bad inputs tried, {fourHundreds} got 4xx.");
        Assert.Empty(failures);
        Assert.Equal(BadRequests.Count, fourHundreds);

        var ok = await fixture.CreateChatClient().CompleteChatAsync([new OpenAI.Chat.UserChatMessage("still there?")],
            new OpenAI.Chat.ChatCompletionOptions { MaxOutputTokenCount = 2, Temperature = 0 });
        Assert.Equal(2, ok.Value.Usage.OutputTokenCount);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC3 })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    public async Task BytesThatAreNotUtf8InsideAStringGet400(byte[] bad)
    {
        var body = Encoding.UTF8.GetBytes($$"""{"model":"{{M}}","messages":[{"role":"user","content":"hi """)
            .Concat(bad).Concat(Encoding.UTF8.GetBytes("\"}]}")).ToArray();
        using var content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } };

        using var response = await fixture.Gateway.PostAsync("/v1/chat/completions", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(IsOpenAIError(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task TheServerDoesNotSayWhatItIs()
    {
        using var response = await fixture.Gateway.GetAsync("/v1/models");

        Assert.False(response.Headers.Contains("Server"));
    }

    [Fact]
    public async Task TheWrongMethodAndAnUnknownRouteGetOpenAIErrors()
    {
        using var get = await fixture.Gateway.GetAsync("/v1/chat/completions");
        using var unknown = await fixture.Gateway.PostAsync("/v1/completions", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.True(IsOpenAIError(await get.Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.True(IsOpenAIError(await unknown.Content.ReadAsStringAsync()));
    }

    private static bool IsOpenAIError(string text)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            var error = json.RootElement.GetProperty("error");
            return error.GetProperty("message").ValueKind == JsonValueKind.String &&
                   error.GetProperty("type").ValueKind == JsonValueKind.String &&
                   error.GetProperty("param").ValueKind is JsonValueKind.String or JsonValueKind.Null &&
                   error.GetProperty("code").ValueKind is JsonValueKind.String or JsonValueKind.Null;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }
}
