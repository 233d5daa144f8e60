using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Fidelity;

/// <summary>
/// "The gateway changes nothing it should not": each row is sent at temperature 0 straight to llama-server and through
/// the gateway, streamed and not, and the answers must match in content, finish reason, token counts and logprobs.
/// Only what the gateway owns (id, created) may differ. A schema's answer must also satisfy the schema, checked by a
/// JSON Schema validator.
/// </summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class EquivalenceTests(GatewayAppFixture fixture)
{
    private const string Hi = """[{"role":"user","content":"Say hello"}]""";

    public static TheoryData<string, string> Rows => new()
    {
        { "plain chat", $$"""{"messages":{{Hi}},"max_tokens":24}""" },
        { "stop sequences", $$"""{"messages":{{Hi}},"max_tokens":40,"stop":["e","a"]}""" },
        { "json_object", $$$"""{"messages":{{{Hi}}},"max_tokens":40,"response_format":{"type":"json_object"}}""" },
        { "the issue's schema: maxLength, strict", Schema("""{"type":"object","properties":{"name":{"type":"string","maxLength":12}},"required":["name"],"additionalProperties":false}""", strict: true) },
        { "minLength", Schema("""{"type":"object","properties":{"name":{"type":"string","minLength":3,"maxLength":8}},"required":["name"],"additionalProperties":false}""") },
        { "pattern", Schema("""{"type":"object","properties":{"code":{"type":"string","pattern":"^[A-Z]{3}-[0-9]{2}$"}},"required":["code"],"additionalProperties":false}""") },
        { "enum", Schema("""{"type":"object","properties":{"color":{"enum":["red","green","blue"]}},"required":["color"],"additionalProperties":false}""") },
        { "const", Schema("""{"type":"object","properties":{"kind":{"const":"fixed"},"ok":{"type":"boolean"}},"required":["kind","ok"],"additionalProperties":false}""") },
        { "format", Schema("""{"type":"object","properties":{"day":{"type":"string","format":"date"}},"required":["day"],"additionalProperties":false}""") },
        { "minimum and maximum", Schema("""{"type":"object","properties":{"age":{"type":"integer","minimum":18,"maximum":99}},"required":["age"],"additionalProperties":false}""") },
        { "items", Schema("""{"type":"object","properties":{"tags":{"type":"array","items":{"enum":["a","b","c"]},"minItems":1,"maxItems":3}},"required":["tags"],"additionalProperties":false}""") },
        { "$defs and $ref", Schema("""{"type":"object","$defs":{"flag":{"type":"boolean"}},"properties":{"a":{"$ref":"#/$defs/flag"},"b":{"$ref":"#/$defs/flag"}},"required":["a","b"],"additionalProperties":false}""") },
        { "logprobs", $$"""{"messages":{{Hi}},"max_tokens":8,"logprobs":true,"top_logprobs":3}""" },
        {
            "a multi-turn conversation",
            """{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello there."},{"role":"user","content":"Again"}],"max_tokens":24,"logprobs":true}"""
        },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task TheGatewayAnswersAsLlamaServerDoes(string row, string request)
    {
        foreach (var stream in new[] { false, true })
        {
            var body = WithStream(request, stream);
            // Once to warm llama-server's prompt cache, so that both answers below come from the same cached prefix.
            await AskAsync(fixture.Backend, body, stream);
            var direct = await AskAsync(fixture.Backend, body, stream);
            var gateway = await AskAsync(fixture.Gateway, body, stream);

            var what = $"{row}, {(stream ? "streamed" : "not streamed")}";
            Assert.True(direct.Content == gateway.Content, $"{what}: content '{gateway.Content}' != llama-server's '{direct.Content}'");
            Assert.True(direct.FinishReason == gateway.FinishReason, $"{what}: finish reason {gateway.FinishReason} != {direct.FinishReason}");
            Assert.True((direct.PromptTokens, direct.CompletionTokens) == (gateway.PromptTokens, gateway.CompletionTokens),
                $"{what}: usage {gateway.PromptTokens}/{gateway.CompletionTokens} != {direct.PromptTokens}/{direct.CompletionTokens}");
            AssertSameLogprobs(what, direct.Logprobs, gateway.Logprobs);

            if (SchemaOf(request) is { } schema && gateway.FinishReason == "stop")
            {
                var result = schema.Evaluate(JsonDocument.Parse(gateway.Content).RootElement, new EvaluationOptions { RequireFormatValidation = true });
                Assert.True(result.IsValid, $"{what}: '{gateway.Content}' does not satisfy its schema");
            }
        }
    }

    private static string Schema(string schema, bool strict = false) =>
        """{"messages":[{"role":"user","content":"Give me JSON"}],"max_tokens":80,"response_format":{"type":"json_schema","json_schema":{"name":"row","strict":""" +
        (strict ? "true" : "false") + ""","schema":""" + schema + "}}}";

    private static JsonSchema? SchemaOf(string request) =>
        JsonNode.Parse(request)!["response_format"]?["json_schema"]?["schema"] is { } schema ? JsonSchema.FromText(schema.ToJsonString()) : null;

    private static string WithStream(string request, bool stream)
    {
        var node = JsonNode.Parse(request)!.AsObject();
        node["model"] = GatewayAppFixture.ServedModel;
        node["temperature"] = 0;
        if (stream)
        {
            node["stream"] = true;
            node["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        return node.ToJsonString();
    }

    /// <summary>
    /// The same tokens, each with the same logprob: to 1e-4, since llama-server's two slots may hold the cached prompt
    /// computed in batches of other sizes, which moves the last digits of a float32 sum.
    /// </summary>
    private static void AssertSameLogprobs(string what, List<JsonElement> direct, List<JsonElement> gateway)
    {
        Assert.True(direct.Count == gateway.Count, $"{what}: {gateway.Count} logprobs != {direct.Count}");
        for (var i = 0; i < direct.Count; i++)
        {
            Assert.Equal(direct[i].GetProperty("token").GetString(), gateway[i].GetProperty("token").GetString());
            Assert.Equal(direct[i].GetProperty("bytes").GetRawText(), gateway[i].GetProperty("bytes").GetRawText());
            Assert.Equal(direct[i].GetProperty("logprob").GetDouble(), gateway[i].GetProperty("logprob").GetDouble(), 1e-4);
            var directTop = direct[i].GetProperty("top_logprobs").EnumerateArray().ToList();
            var gatewayTop = gateway[i].GetProperty("top_logprobs").EnumerateArray().ToList();
            Assert.Equal(directTop.Select(t => t.GetProperty("token").GetString()), gatewayTop.Select(t => t.GetProperty("token").GetString()));
        }
    }

    private sealed record Answer(string Content, string? FinishReason, int PromptTokens, int CompletionTokens, List<JsonElement> Logprobs);

    private static async Task<Answer> AskAsync(HttpClient client, string body, bool stream)
    {
        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{client.BaseAddress}: {(int)response.StatusCode} {text}");
        return stream ? FromStream(text) : FromCompletion(text);
    }

    private static Answer FromCompletion(string text)
    {
        var root = JsonDocument.Parse(text).RootElement;
        var choice = root.GetProperty("choices")[0];
        return new Answer(
            choice.GetProperty("message").GetProperty("content").GetString() ?? "",
            choice.GetProperty("finish_reason").GetString(),
            root.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(),
            root.GetProperty("usage").GetProperty("completion_tokens").GetInt32(),
            Logprobs(choice));
    }

    private static Answer FromStream(string text)
    {
        var content = new StringBuilder();
        string? finishReason = null;
        int prompt = -1, completion = -1;
        var logprobs = new List<JsonElement>();
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal))
            {
                continue;
            }

            var chunk = JsonDocument.Parse(line["data: ".Length..]).RootElement;
            if (chunk.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                prompt = usage.GetProperty("prompt_tokens").GetInt32();
                completion = usage.GetProperty("completion_tokens").GetInt32();
            }

            foreach (var choice in chunk.GetProperty("choices").EnumerateArray())
            {
                if (choice.GetProperty("delta").TryGetProperty("content", out var piece) && piece.ValueKind == JsonValueKind.String)
                {
                    content.Append(piece.GetString());
                }

                if (choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String)
                {
                    finishReason = finish.GetString();
                }

                logprobs.AddRange(Logprobs(choice));
            }
        }

        return new Answer(content.ToString(), finishReason, prompt, completion, logprobs);
    }

    private static List<JsonElement> Logprobs(JsonElement choice) =>
        choice.TryGetProperty("logprobs", out var logprobs) && logprobs.ValueKind == JsonValueKind.Object
            ? [.. logprobs.GetProperty("content").EnumerateArray()]
            : [];
}
