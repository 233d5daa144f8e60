#pragma warning disable OPENAI001 // The OpenAI SDK marks its Responses client experimental.
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using OpenAI.Responses;

namespace LlmApp.Tests.Sdk;

/// <summary>
/// The official OpenAI .NET SDK's Responses client (<c>ResponsesClient</c>), and Microsoft.Extensions.AI over it, unchanged,
/// against the gateway's <c>/v1/responses</c> and the real llama-server.
/// </summary>
[Collection(GatewayAppCollectionDefinition.Name)]
public sealed class ResponsesSdkTests(GatewayAppFixture fixture)
{
    private const string M = GatewayAppFixture.ServedModel;

    private ResponsesClient Client => new(new ApiKeyCredential("unused"),
        new ResponsesClientOptions { Endpoint = new Uri(fixture.GatewayBaseAddress, "v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) });

    private static ResponseTool WeatherTool => ResponseTool.CreateFunctionTool("get_weather",
        BinaryData.FromString("""{"type":"object","additionalProperties":false,"required":["city"],"properties":{"city":{"enum":["Oslo","Paris"]}}}"""),
        strictModeEnabled: true, functionDescription: "Current weather for a city");

    [Fact]
    public async Task AResponseHasItsTextStatusAndUsage()
    {
        ResponseResult response = await Client.CreateResponseAsync(new CreateResponseOptions(M, [ResponseItem.CreateUserMessageItem("Hello")])
        {
            Instructions = "Be brief.",
            MaxOutputTokenCount = 10,
            StoredOutputEnabled = false,
        });

        Assert.StartsWith("resp_", response.Id, StringComparison.Ordinal);
        Assert.NotEmpty(response.GetOutputText());
        Assert.Equal(ResponseStatus.Incomplete, response.Status);
        Assert.Equal("max_output_tokens", response.IncompleteStatusDetails?.Reason?.ToString());
        Assert.Equal(10, response.Usage.OutputTokenCount);
        Assert.True(response.Usage.InputTokenCount > 0);
        Assert.NotNull(response.Usage.InputTokenDetails);
    }

    [Fact]
    public async Task AStreamedResponseSendsItsDeltasAndEndsWithTheWholeResponse()
    {
        var options = new CreateResponseOptions(M, [ResponseItem.CreateUserMessageItem("Hi")]) { MaxOutputTokenCount = 8, StreamingEnabled = true };
        var text = new StringBuilder();
        var kinds = new List<string>();
        ResponseResult? final = null;
        await foreach (var update in Client.CreateResponseStreamingAsync(options))
        {
            kinds.Add(update.GetType().Name);
            switch (update)
            {
                case StreamingResponseOutputTextDeltaUpdate delta:
                    text.Append(delta.Delta);
                    break;
                case StreamingResponseIncompleteUpdate incomplete:
                    final = incomplete.Response;
                    break;
            }
        }

        Assert.Equal(nameof(StreamingResponseCreatedUpdate), kinds[0]);
        Assert.NotNull(final);
        Assert.Equal(text.ToString(), final.GetOutputText());
        Assert.Equal(8, final.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task AFunctionToolRoundTrip()
    {
        var ask = new CreateResponseOptions(M, [ResponseItem.CreateUserMessageItem("Weather in Oslo?")])
        {
            MaxOutputTokenCount = 64,
            // The grammar lets JSON have whitespace between its tokens, which the random model, sampling freely,
            // can spend 64 tokens on: at temperature 0 it takes the same short path every time.
            Temperature = 0,
            ToolChoice = ResponseToolChoice.CreateFunctionChoice("get_weather"),
            Tools = { WeatherTool },
        };
        ResponseResult first = await Client.CreateResponseAsync(ask);

        Assert.Equal(ResponseStatus.Completed, first.Status);
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(first.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        using (var arguments = JsonDocument.Parse(call.FunctionArguments.ToString()))
        {
            Assert.Contains(arguments.RootElement.GetProperty("city").GetString(), (string[])["Oslo", "Paris"]);
        }

        var answer = new CreateResponseOptions(M,
        [
            ResponseItem.CreateUserMessageItem("Weather in Oslo?"),
            ResponseItem.CreateFunctionCallItem(call.CallId, call.FunctionName, call.FunctionArguments),
            ResponseItem.CreateFunctionCallOutputItem(call.CallId, "15 degrees, sunny"),
        ])
        {
            MaxOutputTokenCount = 16,
            ToolChoice = ResponseToolChoice.CreateNoneChoice(),
            Tools = { WeatherTool },
        };
        ResponseResult second = await Client.CreateResponseAsync(answer);

        Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(second.OutputItems));
        Assert.NotEmpty(second.GetOutputText());
    }

    [Fact]
    public async Task MicrosoftExtensionsAIOverTheResponsesClientGetsTheAnswer()
    {
        IChatClient chat = Client.AsIChatClient(M);

        var response = await chat.GetResponseAsync("Hello", new ChatOptions { MaxOutputTokens = 6, Instructions = "Be brief." });

        Assert.NotEmpty(response.Text);
        Assert.Equal(6, response.Usage?.OutputTokenCount);
        Assert.StartsWith("resp_", response.ResponseId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MicrosoftExtensionsAIOverTheResponsesClientStreamsTheSameAnswer()
    {
        IChatClient chat = Client.AsIChatClient(M);
        var options = new ChatOptions { MaxOutputTokens = 6, Temperature = 0, Seed = 7 };

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync("Hello", options))
        {
            updates.Add(update);
        }

        // M.E.AI reads usage only from response.completed; an answer cut by max_output_tokens ends with
        // response.incomplete (as OpenAI's does), so the text is what is compared here.
        var streamed = updates.ToChatResponse();
        var whole = await chat.GetResponseAsync("Hello", options);
        Assert.NotEmpty(streamed.Text);
        Assert.Equal(whole.Text, streamed.Text);
        Assert.StartsWith("resp_", streamed.ResponseId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MicrosoftExtensionsAIInvokesAFunctionOverTheResponsesClientAndAnswersWithItsResult()
    {
        var calls = new List<City>();
        AIFunction weather = AIFunctionFactory.Create((City city) => { calls.Add(city); return "15 degrees, sunny"; },
            "get_weather", "Current weather for a city");
        using IChatClient chat = Client.AsIChatClient(M).AsBuilder()
            .UseFunctionInvocation(configure: invoking => invoking.MaximumIterationsPerRequest = 2)
            .Build();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync("Weather in Oslo?", new ChatOptions
        {
            // The grammar lets JSON have whitespace between its tokens, and the random model spends tokens on it.
            MaxOutputTokens = 128,
            Tools = [weather],
            ToolMode = ChatToolMode.RequireSpecific("get_weather"),
        }))
        {
            updates.Add(update);
        }

        // The forced call is made with arguments the schema allows (M.E.AI could parse and invoke it); its result goes
        // back as a function_call_output and the gateway answers that second request (M.E.AI stops forcing the tool
        // after the first round). Before the gateway wrote the request's tools on one line, this stream could not be read: the
        // SDK indents a function's parameters, and the echo's line breaks split an SSE event.
        // (The random model may call it again in the second round, where the choice is the model's.)
        Assert.NotEmpty(calls);
        var responses = updates.Select(u => u.ResponseId).OfType<string>().Where(id => id.StartsWith("resp_", StringComparison.Ordinal)).Distinct();
        Assert.True(responses.Count() >= 2, "the function's result was not sent back in a second response");
    }

    private enum City
    {
        Oslo,
        Paris,
    }

    [Fact]
    public async Task AResponseRepeatsItsSamplingAsTheRequestGaveIt()
    {
        using var response = await fixture.Gateway.PostAsync("/v1/responses", new StringContent(
            $$"""{"model":"{{M}}","input":"Hi","max_output_tokens":2,"temperature":0.7,"top_p":0.9}""", Encoding.UTF8, "application/json"));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        // As written, not as a float widened to a double (0.699999988079071).
        Assert.Equal("0.7", json.RootElement.GetProperty("temperature").GetRawText());
        Assert.Equal("0.9", json.RootElement.GetProperty("top_p").GetRawText());
        Assert.Equal("2", json.RootElement.GetProperty("max_output_tokens").GetRawText());
    }

    [Fact]
    public async Task StoreIsRefusedNamingItsParameter()
    {
        var refused = await Assert.ThrowsAsync<ClientResultException>(() =>
            Client.CreateResponseAsync(new CreateResponseOptions(M, [ResponseItem.CreateUserMessageItem("Hi")]) { StoredOutputEnabled = true }));

        Assert.Equal(400, refused.Status);
        Assert.Contains("store", refused.Message, StringComparison.Ordinal);
    }
}
