using System.Text;
using System.Text.Json;
using Json.Schema;
using LlmApp.Tests.Infrastructure;
using OpenAI.Chat;

namespace LlmApp.Tests.Fidelity;

/// <summary>
/// Emulated tool calls, checked by property through the official .NET SDK: llama-server under <c>--no-jinja</c> refuses
/// <c>tools</c>, so there is no direct answer to compare with. A call must come as <c>tool_calls</c> (in pieces when
/// streamed), its arguments must satisfy the tool's schema (a JSON Schema validator checks), the finish reason must be
/// right, and nothing of the emulation's wrapper may reach <c>content</c>.
/// </summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class ToolCallTests(GatewayAppFixture fixture)
{
    private const string Parameters =
        """{"type":"object","properties":{"city":{"type":"string","maxLength":10},"unit":{"enum":["C","F"]}},"required":["city","unit"],"additionalProperties":false}""";

    private static readonly ChatTool s_weather = ChatTool.CreateFunctionTool("get_weather", "Current weather for a city", BinaryData.FromString(Parameters));
    private static readonly JsonSchema s_schema = JsonSchema.FromText(Parameters);

    [Fact]
    public async Task AStreamedCallArrivesAsOpenAISendsOneIdAndNameFirstThenArgumentsInPieces()
    {
        var updates = await StreamAsync(Options(ChatToolChoice.CreateFunctionChoice("get_weather"), maxTokens: 120, parallel: false));

        var pieces = updates.SelectMany(u => u.ToolCallUpdates).ToList();
        Assert.NotEmpty(pieces);
        Assert.StartsWith("call_", pieces[0].ToolCallId, StringComparison.Ordinal);
        Assert.Equal("get_weather", pieces[0].FunctionName);
        Assert.All(pieces, p => Assert.Equal(0, p.Index));
        Assert.All(pieces.Skip(1), p => Assert.Null(p.ToolCallId));
        var argumentPieces = pieces.Count(p => p.FunctionArgumentsUpdate is { } a && !a.ToMemory().IsEmpty);
        Assert.True(argumentPieces > 1, $"the arguments came in {argumentPieces} piece(s)");
        Assert.Empty(Text(updates));

        var finish = updates.Select(u => u.FinishReason).Last(f => f is not null);
        var arguments = string.Concat(pieces.Select(p => p.FunctionArgumentsUpdate?.ToString()));
        if (finish == ChatFinishReason.ToolCalls)
        {
            AssertSatisfiesSchema(arguments);
        }
        else
        {
            Assert.Equal(ChatFinishReason.Length, finish);
        }
    }

    [Fact]
    public async Task ACallCutByMaxTokensIsStillACallWithFinishReasonLength()
    {
        var completion = (await fixture.CreateChatClient().CompleteChatAsync(
            [new UserChatMessage("Weather in Oslo?")], Options(ChatToolChoice.CreateRequiredChoice(), maxTokens: 30, parallel: false))).Value;

        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Empty(completion.Content);
    }

    [Fact]
    public async Task AWholeAnswersCallHasOpenAIsShapeWithoutTheIndexOfAStreamsDeltas()
    {
        var request = $$$"""
            {"model":"{{{GatewayAppFixture.ServedModel}}}","messages":[{"role":"user","content":"Weather in Oslo?"}],"max_tokens":30,"temperature":0,
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{{{Parameters}}}}}],"tool_choice":"required"}
            """;
        using var response = await fixture.Gateway.PostAsync("/v1/chat/completions", new StringContent(request, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();

        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var call = answer.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls")[0];
        Assert.Equal(["id", "type", "function"], call.EnumerateObject().Select(p => p.Name));
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
    }

    [Fact]
    public async Task UnderAutoATextAnswerIsPlainContent()
    {
        var updates = await StreamAsync(Options(ChatToolChoice.CreateAutoChoice(), maxTokens: 40, parallel: false));

        var text = Text(updates);
        var calls = updates.SelectMany(u => u.ToolCallUpdates).Where(p => p.ToolCallId is not null).ToList();
        // The model chooses; whichever it chose must come as itself, never as the wrapper's JSON.
        Assert.True(text.Length > 0 || calls.Count == 1, "neither text nor a call came back");
        Assert.DoesNotContain("\"content\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"tool_calls\"", text, StringComparison.Ordinal);
        Assert.True(calls.Count <= 1, $"{calls.Count} calls with parallel_tool_calls false");
    }

    [Fact]
    public async Task WithParallelCallsEachCallHasItsOwnIndexAndId()
    {
        var completion = (await fixture.CreateChatClient().CompleteChatAsync(
            [new UserChatMessage("Weather in Oslo and Paris?")], Options(ChatToolChoice.CreateRequiredChoice(), maxTokens: 200, parallel: true))).Value;

        Assert.NotEmpty(completion.ToolCalls);
        Assert.Equal(completion.ToolCalls.Count, completion.ToolCalls.Select(c => c.Id).Distinct().Count());
        foreach (var call in completion.FinishReason == ChatFinishReason.ToolCalls ? completion.ToolCalls : completion.ToolCalls.SkipLast(1))
        {
            AssertSatisfiesSchema(call.FunctionArguments.ToString());
        }
    }

    [Fact]
    public async Task AConversationWithTheToolsResultContinues()
    {
        var client = fixture.CreateChatClient();
        var first = (await client.CompleteChatAsync([new UserChatMessage("Weather in Oslo?")],
            Options(ChatToolChoice.CreateRequiredChoice(), maxTokens: 120, parallel: false))).Value;
        var call = Assert.Single(first.ToolCalls);

        var next = (await client.CompleteChatAsync(
            [new UserChatMessage("Weather in Oslo?"), new AssistantChatMessage(first.ToolCalls), new ToolChatMessage(call.Id, "12 C and sunny")],
            Options(ChatToolChoice.CreateNoneChoice(), maxTokens: 16, parallel: false))).Value;

        Assert.Contains(next.FinishReason, new[] { ChatFinishReason.Stop, ChatFinishReason.Length });
        Assert.Empty(next.ToolCalls);
        Assert.NotEmpty(next.Content);
    }

    private static ChatCompletionOptions Options(ChatToolChoice choice, int maxTokens, bool parallel) => new()
    {
        MaxOutputTokenCount = maxTokens,
        Temperature = 0,
        Tools = { s_weather },
        ToolChoice = choice,
        AllowParallelToolCalls = parallel,
    };

    private async Task<List<StreamingChatCompletionUpdate>> StreamAsync(ChatCompletionOptions options)
    {
        var updates = new List<StreamingChatCompletionUpdate>();
        await foreach (var update in fixture.CreateChatClient().CompleteChatStreamingAsync([new UserChatMessage("Weather in Oslo?")], options))
        {
            updates.Add(update);
        }

        return updates;
    }

    private static string Text(IEnumerable<StreamingChatCompletionUpdate> updates)
    {
        var text = new StringBuilder();
        foreach (var part in updates.SelectMany(u => u.ContentUpdate))
        {
            text.Append(part.Text);
        }

        return text.ToString();
    }

    private static void AssertSatisfiesSchema(string arguments)
    {
        using var document = JsonDocument.Parse(arguments);
        Assert.True(s_schema.Evaluate(document.RootElement).IsValid, $"arguments '{arguments}' do not satisfy the tool's schema");
    }
}
