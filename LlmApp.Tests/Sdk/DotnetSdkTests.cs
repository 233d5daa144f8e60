using System.ClientModel;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;
using Xunit.Abstractions;

namespace LlmApp.Tests.Sdk;

/// <summary>The official OpenAI .NET SDK (NuGet <c>OpenAI</c>), unchanged, against the gateway and the real llama-server.</summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class DotnetSdkTests(GatewayAppFixture fixture, ITestOutputHelper output)
{
    private static readonly string[] s_levels = ["low", "high"];
    private static readonly string[] s_cities = ["Oslo", "Paris"];
    private static readonly JsonValueKind[] s_booleans = [JsonValueKind.True, JsonValueKind.False];

    private static readonly BinaryData s_lightSchema = BinaryData.FromString("""
        {"type":"object","additionalProperties":false,"required":["on","level"],
         "properties":{"on":{"type":"boolean"},"level":{"enum":["low","high"]}}}
        """);

    private static readonly ChatTool s_weatherTool = ChatTool.CreateFunctionTool(
        "get_weather", "Current weather for a city",
        BinaryData.FromString("""
            {"type":"object","additionalProperties":false,"required":["city"],
             "properties":{"city":{"enum":["Oslo","Paris"]},"unit":{"enum":["C","F"]}}}
            """));

    [Fact]
    public async Task ListModelsReturnsTheServedChatAndEmbeddingModels()
    {
        var models = new OpenAIModelClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(fixture.GatewayBaseAddress, "v1") });

        var list = (await models.GetModelsAsync()).Value;

        Assert.Equal([GatewayAppFixture.ServedModel, GatewayAppFixture.EmbeddingModel], list.Select(m => m.Id));
    }

    [Fact]
    public async Task StreamingDeliversTheRoleTextFinishReasonAndUsage()
    {
        var client = fixture.CreateChatClient();
        var updates = new List<StreamingChatCompletionUpdate>();

        await foreach (var update in client.CompleteChatStreamingAsync(
            [new UserChatMessage("Tell me a story")], new ChatCompletionOptions { MaxOutputTokenCount = 10, Temperature = 0 }))
        {
            updates.Add(update);
        }

        Assert.Equal(ChatMessageRole.Assistant, updates[0].Role);
        Assert.False(string.IsNullOrEmpty(string.Concat(updates.SelectMany(u => u.ContentUpdate).Select(p => p.Text))));
        Assert.Equal(ChatFinishReason.Length, updates.Last(u => u.FinishReason is not null).FinishReason);
        var usage = updates.Last().Usage;
        Assert.NotNull(usage);
        Assert.Equal(10, usage.OutputTokenCount);
        Assert.All(updates.SkipLast(1), u => Assert.Null(u.Usage));
        Assert.All(updates, u => Assert.Equal(GatewayAppFixture.ServedModel, u.Model));
    }

    [Fact]
    public async Task AFollowUpTurnReportsThePromptTokensLlamaServerHadCached()
    {
        // A conversation of its own (a fresh system prompt), so that no earlier test's cache answers its first turn.
        var client = fixture.CreateChatClient();
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0 };
        List<ChatMessage> conversation =
        [
            new SystemChatMessage($"Conversation {Guid.NewGuid():N}. " + string.Concat(Enumerable.Repeat("You answer briefly and kindly. ", 20))),
            new UserChatMessage("What is a lighthouse?"),
        ];

        var first = (await client.CompleteChatAsync(conversation, options)).Value;
        conversation.Add(new AssistantChatMessage(first.Content[0].Text));
        conversation.Add(new UserChatMessage("And a harbour?"));
        var followUp = (await client.CompleteChatAsync(conversation, options)).Value;
        conversation.Add(new AssistantChatMessage(followUp.Content[0].Text));
        conversation.Add(new UserChatMessage("And a pier?"));
        ChatTokenUsage? streamedUsage = null;
        await foreach (var update in client.CompleteChatStreamingAsync(conversation, options))
        {
            streamedUsage = update.Usage ?? streamedUsage;
        }

        // The first turn's prompt is what a follow-up can reuse; llama-server reports how much it did, and the gateway
        // passes that on as usage.prompt_tokens_details.cached_tokens, in single answers and in streams.
        var reusable = first.Usage.InputTokenCount;
        Assert.InRange(followUp.Usage.InputTokenDetails.CachedTokenCount, reusable * 9 / 10, followUp.Usage.InputTokenCount - 1);
        Assert.NotNull(streamedUsage);
        Assert.InRange(streamedUsage.InputTokenDetails.CachedTokenCount, followUp.Usage.InputTokenCount * 9 / 10, streamedUsage.InputTokenCount - 1);
    }

    [Fact]
    public async Task TheSameSeedAtTemperatureZeroRepeatsTheAnswer()
    {
        var client = fixture.CreateChatClient();
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 16, Temperature = 0, Seed = 1234 };

        var first = (await client.CompleteChatAsync([new UserChatMessage("Once upon a time")], options)).Value;
        var second = (await client.CompleteChatAsync([new UserChatMessage("Once upon a time")], options)).Value;

        Assert.Equal(first.Content[0].Text, second.Content[0].Text);
    }

    [Fact]
    public async Task AStopSequenceEndsTheAnswerBeforeIt()
    {
        var client = fixture.CreateChatClient();
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 24, Temperature = 0, Seed = 99 };
        var full = (await client.CompleteChatAsync([new UserChatMessage("Count")], options)).Value.Content[0].Text;
        var stop = full.Substring(full.Length / 2, 3);
        options.StopSequences.Add(stop);

        var cut = (await client.CompleteChatAsync([new UserChatMessage("Count")], options)).Value;

        Assert.Equal(ChatFinishReason.Stop, cut.FinishReason);
        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], cut.Content[0].Text);
    }

    [Fact]
    public async Task JsonSchemaOutputMatchesTheSchema()
    {
        var client = fixture.CreateChatClient();
        var options = new ChatCompletionOptions
        {
            MaxOutputTokenCount = 64,
            Temperature = 0,
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("light", s_lightSchema, jsonSchemaIsStrict: true),
        };

        var completion = (await client.CompleteChatAsync([new UserChatMessage("Describe the light")], options)).Value;

        using var json = JsonDocument.Parse(completion.Content[0].Text);
        Assert.Contains(json.RootElement.GetProperty("on").ValueKind, s_booleans);
        Assert.Contains(json.RootElement.GetProperty("level").GetString(), s_levels);
    }

    [Theory]
    [InlineData("named")]
    [InlineData("required")]
    public async Task AForcedToolCallReturnsToolCallsWithValidArguments(string choice)
    {
        var client = fixture.CreateChatClient();
        var options = new ChatCompletionOptions
        {
            MaxOutputTokenCount = 64,
            Temperature = 0,
            Tools = { s_weatherTool },
            ToolChoice = choice == "named" ? ChatToolChoice.CreateFunctionChoice("get_weather") : ChatToolChoice.CreateRequiredChoice(),
            // One call: the tiny random model, free to add calls, would add them until max_tokens.
            AllowParallelToolCalls = false,
        };

        var completion = (await client.CompleteChatAsync([new UserChatMessage("Weather in Oslo?")], options)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.StartsWith("call_", call.Id, StringComparison.Ordinal);
        using var arguments = JsonDocument.Parse(call.FunctionArguments);
        Assert.Contains(arguments.RootElement.GetProperty("city").GetString(), s_cities);
    }

    /// <summary>A named tool_choice is one call of that tool, whatever parallel_tool_calls says (the random model, left free, repeats it until max_tokens).</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(null)]
    public async Task ANamedToolChoiceYieldsExactlyOneCallOfThatTool(bool? parallel)
    {
        var client = fixture.CreateChatClient();
        var options = new ChatCompletionOptions
        {
            MaxOutputTokenCount = 128,
            Temperature = 0,
            Tools = { s_weatherTool },
            ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather"),
        };
        if (parallel is { } allowed)
        {
            options.AllowParallelToolCalls = allowed;
        }

        var completion = (await client.CompleteChatAsync([new UserChatMessage("Weather in Oslo and in Lima?")], options)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        Assert.Equal("get_weather", Assert.Single(completion.ToolCalls).FunctionName);
    }

    [Fact]
    public async Task AToolResultInTheHistoryIsAccepted()
    {
        var client = fixture.CreateChatClient();
        List<ChatMessage> history =
        [
            new UserChatMessage("Weather in Oslo?"),
            new AssistantChatMessage([ChatToolCall.CreateFunctionToolCall("call_1", "get_weather", BinaryData.FromString("""{"city":"Oslo"}"""))]),
            new ToolChatMessage("call_1", """{"temperature":-3}"""),
        ];

        var completion = (await client.CompleteChatAsync(history,
            new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0, Tools = { s_weatherTool }, ToolChoice = ChatToolChoice.CreateNoneChoice() })).Value;

        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
    }

    [Fact]
    public async Task ErrorsReachTheSdkWithTheirStatus()
    {
        var unknownModel = await Assert.ThrowsAsync<ClientResultException>(
            () => fixture.CreateChatClient("gpt-4o").CompleteChatAsync([new UserChatMessage("hi")]));
        var badTemperature = await Assert.ThrowsAsync<ClientResultException>(
            () => fixture.CreateChatClient().CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { Temperature = 7 }));

        Assert.Equal(404, unknownModel.Status);
        Assert.Contains("model_not_found", unknownModel.Message, StringComparison.Ordinal);
        Assert.Equal(400, badTemperature.Status);
        Assert.Contains("temperature", badTemperature.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAbortedStreamFreesTheBackendSlotAndTheNextRequestSucceeds()
    {
        const int Asked = 4000;
        var client = fixture.CreateChatClient();
        // The backend must still be generating when the client leaves: on a busy machine the client can read its third
        // token after the tiny model has written all 4,000 (about two seconds). Such a run proves nothing, and is run again.
        for (var attempt = 1; ; attempt++)
        {
            using var cts = new CancellationTokenSource();
            var received = 0;
            // Counted from idle, so that the tail of an earlier test's generation is not counted as this one's.
            Assert.True((await fixture.WaitForIdleSlotsAsync(TimeSpan.FromSeconds(30))).Idle, "llama-server was still busy before the test");
            var decodesBefore = await fixture.BackendDecodeCountAsync();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await foreach (var _ in client.CompleteChatStreamingAsync(
                    [new UserChatMessage("Go on forever")], new ChatCompletionOptions { MaxOutputTokenCount = Asked, Temperature = 0 }, cts.Token))
                {
                    if (++received == 3)
                    {
                        await cts.CancelAsync();
                    }
                }
            });

            // llama-server's /slots shows the generation stopped: the gateway cancelled the backend request.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (idle, slots) = await fixture.WaitForIdleSlotsAsync(TimeSpan.FromSeconds(5));
            output.WriteLine($"attempt {attempt}: slot idle {clock.ElapsedMilliseconds} ms after the client left");
            Assert.True(idle, $"a llama-server slot was still processing {clock.ElapsedMilliseconds} ms after the client left: {slots}");
            // And it stopped because it was cancelled, not because it finished: short of the tokens asked for (a decode for
            // the prompt, then one a token).
            var decoded = await fixture.BackendDecodeCountAsync() - decodesBefore;
            output.WriteLine($"attempt {attempt}: {decoded} decodes");
            if (decoded >= Asked && attempt < 3)
            {
                continue;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"a llama-server slot was still processing {clock.ElapsedMilliseconds} ms after the client left: {slots}");
            Assert.InRange(decoded, 1, Asked - 1);
            break;
        }

        var next = (await client.CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 4, Temperature = 0 })).Value;
        Assert.Equal(4, next.Usage.OutputTokenCount);
    }
}
