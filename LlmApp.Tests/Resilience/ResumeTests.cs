using System.Net;
using System.Text;
using System.Text.Json;
using LlmApp.Tests.Infrastructure;
using OpenAI.Chat;
using Xunit.Abstractions;

namespace LlmApp.Tests.Resilience;

/// <summary>
/// Answers cut by a replica killed by its process id, mid-answer, on two real llama-servers: continued on the other
/// (or on the one restarted) as one answer, equal to an uninterrupted run at temperature 0 with a seed; and the cuts
/// that must not be continued end with the error event as before. The client is the official OpenAI SDK.
/// </summary>
public sealed class ResumeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_killWithin = TimeSpan.FromSeconds(20);

    // "Go on" at temperature 0 runs its whole length on the tiny model; 1,500 tokens take a second or more on one thread.
    private static readonly List<ChatMessage> s_messages = [new UserChatMessage("Go on")];

    private static ChatCompletionOptions Options(int maxTokens = 1500) => new() { MaxOutputTokenCount = maxTokens, Temperature = 0, Seed = 7 };

    [Fact]
    public async Task AStreamCutByAKilledReplicaGoesOnOnTheOtherAsOneAnswer()
    {
        await using var pair = await ReplicaPair.StartAsync();
        var reference = await StreamAsync(pair.Chat, kill: null);

        var resumed = await StreamAsync(pair.Chat, kill: () => pair.KillServingAsync(s_killWithin));

        output.WriteLine($"cut after {resumed.TokensBeforeKill} tokens; reference {reference.Text.Length} characters, {reference.Usage}; resumed {resumed.Text.Length}, {resumed.Usage}");
        Assert.Equal(reference.Text, resumed.Text);
        Assert.Equal(reference.Finish, resumed.Finish);
        Assert.Equal(reference.Usage.Output, resumed.Usage.Output);
        // The client's own prompt, as llama-server counts it, not the continuation's.
        Assert.Equal(reference.Usage.Input, resumed.Usage.Input);
        Assert.True(resumed.TokensBeforeKill < reference.Usage.Output, "the replica was killed after the answer ended");

        var line = await pair.LogLineAsync(l => l.Contains("stream=True", StringComparison.Ordinal) && l.Contains("resumed=1", StringComparison.Ordinal));
        output.WriteLine(line);
        Assert.Contains("status=200", line, StringComparison.Ordinal);
        Assert.Contains("error=none", line, StringComparison.Ordinal);
        var metrics = await pair.Gateway.Client.GetStringAsync("/metrics");
        Assert.Contains("llmapp_resume_cause=\"disconnect\"} 1", metrics, StringComparison.Ordinal);
        Assert.Matches(@"llmapp_resume_prompt_tokens_total\{[^}]*\} [1-9]", metrics);
    }

    /// <summary>The openai kind (vLLM) is asked to continue in a chat call: the messages, the text sent as the last assistant message, <c>continue_final_message</c>.</summary>
    [Fact]
    public async Task AStreamCutOnAnOpenAIKindReplicaGoesOnWithContinueFinalMessage()
    {
        await using var pair = await ReplicaPair.StartOpenAIKindAsync();
        var reference = await StreamAsync(pair.Chat, kill: null);

        var resumed = await StreamAsync(pair.Chat, kill: () => pair.KillServingAsync(s_killWithin));

        Assert.Equal(reference.Text, resumed.Text);
        Assert.Equal(reference.Finish, resumed.Finish);
        Assert.Equal(reference.Usage.Output, resumed.Usage.Output);
        output.WriteLine(await pair.LogLineAsync(l => l.Contains("resumed=1", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ASingleAnswerCutByAKilledReplicaIsAskedAgainOnTheOther()
    {
        await using var pair = await ReplicaPair.StartAsync();
        var chat = pair.Chat;
        ChatCompletion reference = await chat.CompleteChatAsync(s_messages, Options());

        var answer = chat.CompleteChatAsync(s_messages, Options());
        await pair.KillServingAsync(s_killWithin);
        ChatCompletion resumed = await answer;

        Assert.Equal(reference.Content[0].Text, resumed.Content[0].Text);
        Assert.Equal(reference.FinishReason, resumed.FinishReason);
        Assert.Equal(reference.Usage.OutputTokenCount, resumed.Usage.OutputTokenCount);
        Assert.Equal(reference.Usage.InputTokenCount, resumed.Usage.InputTokenCount);
        var line = await pair.LogLineAsync(l => l.Contains("stream=False", StringComparison.Ordinal) && l.Contains("resumed=1", StringComparison.Ordinal));
        output.WriteLine(line);
        Assert.Contains("status=200", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALoneReplicaRestartedWithinTheDeadlineTakesTheAnswerUp()
    {
        await using var pair = await ReplicaPair.StartAsync(replicas: 1, ("Resilience__ResumeCutAnswers", "true"));
        var reference = await StreamAsync(pair.Chat, kill: null);

        var resumed = await StreamAsync(pair.Chat, kill: async () =>
        {
            var (index, killed) = await pair.KillServingAsync(s_killWithin);
            // Started again a moment later, as the AppHost or the compose restart policy does.
            await Task.Delay(300);
            await pair.RestartAsync(index, killed);
        });

        Assert.Equal(reference.Text, resumed.Text);
        Assert.Equal(reference.Usage.Output, resumed.Usage.Output);
        output.WriteLine(await pair.LogLineAsync(l => l.Contains("resumed=1", StringComparison.Ordinal)));
    }

    /// <summary>
    /// What a continuation cannot pick up exactly ends as before: the stream's last event is the error, no finish reason,
    /// no usage. JSON mode is a grammar in mid-parse at the cut, logprobs of the text already sent cannot be given again,
    /// and with <c>Resilience:ResumeCutAnswers=false</c> nothing is continued.
    /// </summary>
    [Theory]
    [InlineData("json_object")]
    [InlineData("logprobs")]
    [InlineData("turned off")]
    public async Task ACutThatMustNotBeContinuedEndsWithTheErrorEvent(string why)
    {
        (string, string)[] settings = why == "turned off" ? [("Resilience__ResumeCutAnswers", "false")] : [];
        await using var pair = await ReplicaPair.StartAsync(2, settings);
        var body = new Dictionary<string, object>
        {
            ["model"] = ReplicaPair.Model,
            ["messages"] = new[] { new { role = "user", content = "Go on" } },
            ["max_tokens"] = 1500,
            ["temperature"] = 0,
            ["stream"] = true,
        };
        if (why == "json_object")
        {
            body["response_format"] = new { type = "json_object" };
        }
        else if (why == "logprobs")
        {
            body["logprobs"] = true;
        }

        pair.Gateway.Client.DefaultRequestHeaders.Authorization = new("Bearer", ReplicaPair.Key);
        await using var stream = await SseReader.OpenAsync(pair.Gateway.Client, JsonSerializer.Serialize(body));
        Assert.Equal(HttpStatusCode.OK, stream.Status);
        Assert.NotNull(await stream.NextDataAsync());
        await pair.KillServingAsync(s_killWithin);
        var (events, _) = await stream.ReadToEndAsync();

        output.WriteLine($"{why}: {events[^1]}");
        using var error = JsonDocument.Parse(events[^1]);
        Assert.Equal("backend_disconnected", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.DoesNotContain(events, e => e.Contains("\"finish_reason\":\"", StringComparison.Ordinal));
        var line = await pair.LogLineAsync(l => l.Contains("error=backend_disconnected", StringComparison.Ordinal));
        Assert.Contains("resumed=0", line, StringComparison.Ordinal);
    }

    private sealed record Usage(int Input, int Output);

    private sealed record Streamed(string Text, ChatFinishReason? Finish, Usage Usage, int TokensBeforeKill);

    /// <summary>Streams the answer to "Go on" with the SDK; <paramref name="kill"/> runs after its 20th update, while the stream is read on.</summary>
    private static async Task<Streamed> StreamAsync(ChatClient chat, Func<Task>? kill)
    {
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        Usage? usage = null;
        var updates = 0;
        var beforeKill = 0;
        Task? killing = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(s_messages, Options()))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish = update.FinishReason ?? finish;
            if (update.Usage is { } counted)
            {
                usage = new(counted.InputTokenCount, counted.OutputTokenCount);
            }

            if (++updates == 20 && kill is not null)
            {
                killing = kill();
                await killing.WaitAsync(s_killWithin);
                beforeKill = updates;
            }
        }

        if (killing is not null)
        {
            await killing;
        }

        Assert.NotNull(usage);
        Assert.NotNull(finish);
        return new(text.ToString(), finish, usage, beforeKill);
    }
}
