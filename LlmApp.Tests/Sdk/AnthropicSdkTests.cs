using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using LlmApp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LlmApp.Tests.Sdk;

/// <summary>
/// The official Anthropic .NET SDK (NuGet <c>Anthropic</c>), unchanged, against the gateway's Messages API and the real
/// llama-server: a message, its stream, a token count, a tool-use round trip, the models list, and errors in Anthropic's shape.
/// </summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class AnthropicSdkTests(GatewayAppFixture fixture, ITestOutputHelper output)
{
    private const string M = GatewayAppFixture.ServedModel;

    private static readonly Tool s_weatherTool = new()
    {
        Name = "get_weather",
        Description = "Current weather for a city",
        InputSchema = new InputSchema
        {
            Properties = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement(new { @enum = new[] { "Oslo", "Paris" } }) },
            Required = ["city"],
        },
    };

    private AnthropicClient Client => new() { ApiKey = "unused", BaseUrl = fixture.GatewayBaseAddress.ToString().TrimEnd('/'), MaxRetries = 0 };

    [Fact]
    public async Task AMessageComesBackAsAnthropicsMessageWithItsUsage()
    {
        var message = await Client.Messages.Create(new MessageCreateParams
        {
            Model = M,
            MaxTokens = 16,
            System = "You are terse.",
            Messages = [new UserMessageParam("Hello")],
        });

        Assert.StartsWith("msg_", message.ID, StringComparison.Ordinal);
        Assert.True(Assert.Single(message.Content).TryPickText(out var text));
        Assert.NotEmpty(text!.Text);
        // The tiny model runs to max_tokens.
        Assert.Equal("max_tokens", message.StopReason?.Raw());
        Assert.Equal(16, message.Usage.OutputTokens);
        Assert.True(message.Usage.InputTokens + (message.Usage.CacheReadInputTokens ?? 0) > 0);
    }

    [Fact]
    public async Task AStreamSendsAnthropicsEventsInTheirOrder()
    {
        var types = new List<string>();
        var text = new StringBuilder();
        string? stop = null;
        long outputTokens = 0;
        (long? Input, long? Cached)? atStart = null, atEnd = null;
        await foreach (var streamed in Client.Messages.CreateStreaming(new MessageCreateParams { Model = M, MaxTokens = 12, Messages = [new UserMessageParam("Hi")] }))
        {
            types.Add(streamed.Type.Raw());
            if (streamed.TryPickStart(out var start))
            {
                atStart = (start.Message.Usage.InputTokens, start.Message.Usage.CacheReadInputTokens ?? 0);
            }
            else if (streamed.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var piece))
            {
                text.Append(piece.Text);
            }
            else if (streamed.TryPickDelta(out var end))
            {
                stop = end.Delta.StopReason?.Raw();
                outputTokens = end.Usage.OutputTokens;
                atEnd = (end.Usage.InputTokens, end.Usage.CacheReadInputTokens ?? 0);
            }
        }

        // message_start already has the prompt's count (llama-server's, before its first token), as Anthropic's does.
        Assert.NotNull(atStart);
        Assert.True(atStart.Value.Input + atStart.Value.Cached > 0);
        Assert.Equal(atEnd, atStart);

        output.WriteLine(string.Join(" ", types));
        // The SDK passes the ping on, or drops it: Anthropic's own streams send one after message_start.
        types.Remove("ping");
        Assert.Equal(["message_start", "content_block_start"], types.Take(2));
        Assert.Equal(["content_block_stop", "message_delta", "message_stop"], types.TakeLast(3));
        Assert.All(types.Skip(2).SkipLast(3), t => Assert.Equal("content_block_delta", t));
        Assert.NotEmpty(text.ToString());
        Assert.Equal("max_tokens", stop);
        Assert.Equal(12, outputTokens);
    }

    [Fact]
    public async Task AnAnswerEndedByAStopSequenceSaysWhichInBothForms()
    {
        // The random model writes vowels within a few tokens (and, in these tests, never ends by itself first): the
        // answer stops before the first one, and says stop_sequence, naming it. (This SDK has no temperature to pin.)
        string[] vowels = ["e", "a", "o", "i"];
        var ask = new MessageCreateParams { Model = M, MaxTokens = 64, Messages = [new UserMessageParam("Tell me a story")], StopSequences = vowels };

        var stopped = await Client.Messages.Create(ask);
        Assert.Equal("stop_sequence", stopped.StopReason?.Raw());
        Assert.Contains(stopped.StopSequence, vowels);
        var text = string.Concat(stopped.Content.Select(block => block.TryPickText(out var t) ? t.Text : ""));
        Assert.DoesNotContain(vowels, text.Contains);

        var streamedText = new StringBuilder();
        string? streamedReason = null, streamedSequence = null;
        await foreach (var streamed in Client.Messages.CreateStreaming(ask))
        {
            if (streamed.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var piece))
            {
                streamedText.Append(piece.Text);
            }
            else if (streamed.TryPickDelta(out var end))
            {
                (streamedReason, streamedSequence) = (end.Delta.StopReason?.Raw(), end.Delta.StopSequence);
            }
        }

        Assert.Equal("stop_sequence", streamedReason);
        Assert.Contains(streamedSequence, vowels);
        Assert.DoesNotContain(vowels, streamedText.ToString().Contains);
    }

    [Fact]
    public async Task CountTokensIsThePromptTheModelReads()
    {
        var messages = new List<MessageParam> { new UserMessageParam("How many tokens is this prompt?") };
        var count = await Client.Messages.CountTokens(new MessageCountTokensParams { Model = M, System = "Count me too.", Messages = messages });
        var message = await Client.Messages.Create(new MessageCreateParams { Model = M, MaxTokens = 1, System = "Count me too.", Messages = messages });

        Assert.True(count.InputTokens > 5);
        Assert.Equal(count.InputTokens, message.Usage.InputTokens + (message.Usage.CacheReadInputTokens ?? 0));
    }

    [Fact]
    public async Task CountTokensCountsTheToolsAsTheModelReadsThem()
    {
        // llama-server here runs without Jinja, so the gateway writes the tools into the prompt (the tool-call
        // emulation): the count includes them, as the model's answer's input tokens do.
        var messages = new List<MessageParam> { new UserMessageParam("Weather in Oslo?") };
        var withTools = await Client.Messages.CountTokens(new MessageCountTokensParams { Model = M, Messages = messages, Tools = [s_weatherTool] });
        var without = await Client.Messages.CountTokens(new MessageCountTokensParams { Model = M, Messages = messages });
        var message = await Client.Messages.Create(new MessageCreateParams { Model = M, MaxTokens = 1, Messages = messages, Tools = [s_weatherTool] });

        Assert.True(withTools.InputTokens > without.InputTokens + 10, $"{withTools.InputTokens} with the tool, {without.InputTokens} without");
        Assert.Equal(withTools.InputTokens, message.Usage.InputTokens + (message.Usage.CacheReadInputTokens ?? 0));
    }

    [Fact]
    public async Task AnthropicsOwnToolsArePassedOverAndTheRestServed()
    {
        // Claude Code and others may offer Anthropic's server and built-in tools (web search, bash): their schemas live
        // at Anthropic, so this model is not told of them; the client's own tools still are.
        var body = $$"""
            {"model":"{{M}}","max_tokens":64,"temperature":0,"messages":[{"role":"user","content":"Weather in Oslo?"}],
             "tools":[{"type":"web_search_20250305","name":"web_search","max_uses":1},{"type":"bash_20250124","name":"bash"},
                      {"type":"custom","name":"get_weather","input_schema":{"type":"object","properties":{"city":{"enum":["Oslo","Paris"]} },"required":["city"]} } ],
             "tool_choice":{"type":"any"} }
            """;
        using var response = await fixture.Gateway.PostAsync("/v1/messages", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        output.WriteLine(text);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var message = JsonDocument.Parse(text);
        var calls = message.RootElement.GetProperty("content").EnumerateArray().Where(b => b.GetProperty("type").GetString() == "tool_use").ToList();
        Assert.NotEmpty(calls);
        Assert.All(calls, call => Assert.Equal("get_weather", call.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task AToolUseRoundTrip()
    {
        var ask = new MessageCreateParams
        {
            Model = M,
            // The grammar lets JSON have whitespace between its tokens, which the random model can spend tokens on;
            // this SDK has no temperature to pin, so the limit leaves room for it.
            MaxTokens = 256,
            Tools = [s_weatherTool],
            ToolChoice = new ToolChoiceTool("get_weather"),
            Messages = [new UserMessageParam("Weather in Oslo?")],
        };
        var first = await Client.Messages.Create(ask);

        Assert.Equal("tool_use", first.StopReason?.Raw());
        Assert.True(Assert.Single(first.Content).TryPickToolUse(out var call));
        Assert.Equal("get_weather", call!.Name);
        Assert.Contains(call.Input["city"].GetString(), (string[])["Oslo", "Paris"]);

        var answer = await Client.Messages.Create(ask with
        {
            ToolChoice = new ToolChoiceNone(),
            Messages =
            [
                new UserMessageParam("Weather in Oslo?"),
                new AssistantMessageParam(new List<ContentBlockParam> { new ToolUseBlockParam { ID = call.ID, Name = call.Name, Input = call.Input } }),
                new UserMessageParam(new List<ContentBlockParam> { new ToolResultBlockParam(call.ID) { Content = "15 degrees, sunny" } }),
            ],
        });

        Assert.NotEqual("tool_use", answer.StopReason?.Raw());
        Assert.True(Assert.Single(answer.Content).TryPickText(out _));
    }

    [Fact]
    public async Task AStreamedToolUseArrivesAsInputJsonDeltas()
    {
        var arguments = new StringBuilder();
        string? name = null;
        string? stop = null;
        await foreach (var streamed in Client.Messages.CreateStreaming(new MessageCreateParams
        {
            Model = M,
            MaxTokens = 256,
            Tools = [s_weatherTool],
            // One call: the tiny random model, free to add calls, adds them until max_tokens.
            ToolChoice = new ToolChoiceAny { DisableParallelToolUse = true },
            Messages = [new UserMessageParam("Weather in Paris?")],
        }))
        {
            if (streamed.TryPickContentBlockStart(out var start) && start.ContentBlock.TryPickToolUse(out var use))
            {
                Assert.Null(name);
                name = use.Name;
            }
            else if (streamed.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickInputJson(out var json))
            {
                arguments.Append(json.PartialJson);
            }
            else if (streamed.TryPickDelta(out var end))
            {
                stop = end.Delta.StopReason?.Raw();
            }
        }

        Assert.Equal("get_weather", name);
        Assert.Equal("tool_use", stop);
        using var input = JsonDocument.Parse(arguments.ToString());
        Assert.Contains(input.RootElement.GetProperty("city").GetString(), (string[])["Oslo", "Paris"]);
    }

    [Fact]
    public async Task TheModelsListIsAnthropicsForAnAnthropicClient()
    {
        var page = await Client.Models.List();

        Assert.Equal(M, Assert.Single(page.Items).ID);
    }

    [Fact]
    public async Task AnUnknownModelIsAnthropicsNotFoundError()
    {
        var refused = await Assert.ThrowsAsync<AnthropicNotFoundException>(() =>
            Client.Messages.Create(new MessageCreateParams { Model = "claude-sonnet-4-5", MaxTokens = 8, Messages = [new UserMessageParam("Hi")] }));

        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
    }

    /// <summary>What the SDK will not send: checked with a plain client, the body in Anthropic's error shape naming the field.</summary>
    [Theory]
    [InlineData("""{"model":"tiny","messages":[{"role":"user","content":"Hi"}]}""", "max_tokens")]
    [InlineData("""{"model":"tiny","max_tokens":8,"messages":[]}""", "messages")]
    [InlineData("""{"model":"tiny","max_tokens":8,"messages":[{"role":"system","content":"Hi"}]}""", "messages.0.role")]
    [InlineData("""{"model":"tiny","max_tokens":8,"messages":[{"role":"user","content":[{"type":"image","source":{}}]}]}""", "messages.0.content.0")]
    [InlineData("""{"model":"tiny","max_tokens":8,"messages":[{"role":"user","content":"Hi"}],"tool_choice":{"type":"tool","name":"nope"}}""", "tool_choice")]
    [InlineData("""{"model":"tiny","max_tokens":8,"temperature":7,"messages":[{"role":"user","content":"Hi"}]}""", "temperature")]
    [InlineData("""{"model":"tiny","max_tokens":8,"messages":[{"role":"user","content":"\ud800"}]}""", "Unicode")]
    [InlineData("""not json""", "JSON")]
    public async Task ABadRequestIsAnthropicsInvalidRequestErrorNamingTheField(string body, string named)
    {
        using var http = new HttpClient { BaseAddress = fixture.GatewayBaseAddress };
        // "tiny" stands for the served model's name.
        using var response = await http.PostAsync("/v1/messages", new StringContent(body.Replace("\"tiny\"", $"\"{M}\"", StringComparison.Ordinal), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        output.WriteLine(text);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(text);
        Assert.Equal("error", error.RootElement.GetProperty("type").GetString());
        Assert.Equal("invalid_request_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains(named, error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
