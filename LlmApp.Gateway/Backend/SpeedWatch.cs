using System.Diagnostics;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Watches one call to a backend for its <see cref="BackendSpeed"/>: when it was sent, when its first token came and
/// how many streams were running then, and the usage (with llama-server's timings) it ended with. Only an answer that
/// ended whole is learned from.
/// </summary>
internal sealed class SpeedWatch(ModelBackend backend, long sent)
{
    private BackendUsage? _usage;
    private int _streamsAtFirst;

    /// <summary>When the first token came, as a <see cref="Stopwatch"/> timestamp; 0 until then.</summary>
    public long FirstToken { get; private set; }

    /// <summary>The usage (with llama-server's timings) the answer ended with.</summary>
    public void UsageSeen(BackendUsage usage) => _usage = usage;

    public void FirstTokenCame()
    {
        FirstToken = Stopwatch.GetTimestamp();
        _streamsAtFirst = backend.Speed.Running;
    }

    public void Ended(IEnumerable<ChatMessage> messages)
    {
        if (_usage is not { } usage)
        {
            return;
        }

        var end = Stopwatch.GetTimestamp();
        var firstEvent = FirstToken == 0 ? 0 : Stopwatch.GetElapsedTime(sent, FirstToken).TotalSeconds;
        var streams = Math.Max(1, (int)Math.Ceiling((Math.Max(_streamsAtFirst, 1) + backend.Speed.Running) / 2.0));
        var prompt = usage.PromptTokens ?? 0;
        var output = usage.CompletionTokens ?? 0;
        var sample = usage.Timings is { } timings
            ? new BackendSample(timings.PromptTokens, timings.PromptMs / 1000, firstEvent, timings.PredictedTokens, timings.PredictedMs / 1000, streams,
                prompt, PromptText.Chars(messages), output)
            : new BackendSample(prompt - (usage.CachedTokens ?? 0), firstEvent, firstEvent, output - 1,
                FirstToken == 0 ? 0 : Stopwatch.GetElapsedTime(FirstToken, end).TotalSeconds, streams, prompt, PromptText.Chars(messages), output);
        backend.Speed.Record(sample);
    }
}
