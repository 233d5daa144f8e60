using System.Diagnostics;

namespace LlmApp.Bench.Workload;

/// <summary>One turn of a conversation: what it measured, and how much of its prompt an earlier turn had already sent.</summary>
internal sealed record TurnSample(int Conversation, int Turn, RequestSample Sample, int ReusablePrefixTokens);

internal sealed record ConversationResult(string Target, IReadOnlyList<TurnSample> Turns, TimeSpan Duration, TimeSpan? Cpu);

/// <summary>
/// Conversations of several turns, run side by side: each has a system prompt of its own, and each turn sends the whole
/// conversation so far plus a new user message, as a chat client does. A server with a prompt cache reads only the new
/// part of a follow-up; <see cref="TurnSample.ReusablePrefixTokens"/> is the part it could have kept (the earlier
/// turns' prompt and answer).
/// </summary>
internal sealed class ConversationRunner(ChatRequestSender sender)
{
    public async Task<ConversationResult> RunAsync(Target target, string model, BenchSettings settings, PromptSet systemPrompts, PromptSet userMessages,
        Action onTurn, CancellationToken cancellationToken)
    {
        var conversations = settings.Conversations!;
        var turns = new List<TurnSample>();
        var cpuBefore = target.Cpu?.Read();
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, conversations.Conversations).Select(async c =>
        {
            // Numbered apart from any earlier run, so that no conversation starts from another's cache.
            var id = Random.Shared.Next(1_000_000, int.MaxValue / 2);
            var messages = new List<(string Role, string Content)> { ("system", systemPrompts[id]) };
            var reusable = 0;
            for (var t = 0; t < conversations.Turns; t++)
            {
                messages.Add(("user", userMessages[id + t + 1]));
                var body = ApiDialect.Body(target.Api, model, messages, settings.OutputTokens, stream: true, settings.Temperature, settings.IgnoreEos);
                var sample = await sender.SendAsync(target, body, stream: true, cancellationToken, keepText: true);
                lock (turns)
                {
                    turns.Add(new TurnSample(c, t, sample, t == 0 ? 0 : reusable));
                }

                onTurn();
                if (!sample.Ok)
                {
                    break;
                }

                messages.Add(("assistant", sample.Text ?? ""));
                reusable = (sample.PromptTokens ?? 0) + sample.OutputTokens;
                if (conversations.ThinkMs > 0)
                {
                    // The user reads the answer: turns of different conversations stop arriving in lockstep.
                    await Task.Delay(Random.Shared.Next(conversations.ThinkMs + 1), cancellationToken);
                }
            }
        }));

        return new ConversationResult(target.Name, turns, Stopwatch.GetElapsedTime(start), target.Cpu?.Read() - cpuBefore);
    }
}
