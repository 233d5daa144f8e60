using System.Globalization;
using LlmApp.Gateway.Backend;

namespace LlmApp.Gateway.Admission;

/// <summary>
/// Admission's predictions: how many streams a backend may run (its slots, or fewer under the decode-rate floor), when
/// a call is expected to give its slot back, and the time to first token a request can expect. Called under the lock.
/// </summary>
public sealed partial class AdmissionControl
{
    // How long refusals may go on at a free slot on what the backend's speed was last learned to be.
    private static readonly TimeSpan RelearnAfter = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Streams <paramref name="backend"/> may run: its slots, or with <c>Slo:MinTokensPerSecond</c> the most at which its
    /// measured decode rate keeps over the floor (where more streams have not been measured, the rate at fewer stands
    /// for it, so that admission tries them and learns); always at least one.
    /// </summary>
    private int Capacity(ModelBackend backend)
    {
        var slots = backend.Slots;
        if (_minTokensPerSecond is not { } floor)
        {
            return slots;
        }

        var speed = backend.Speed;
        for (var streams = slots; streams > 1; streams--)
        {
            var rate = speed.DecodeRate(streams);
            if (rate == 0 || rate >= floor)
            {
                return streams;
            }
        }

        return 1;
    }

    /// <summary>A lease on <paramref name="backend"/> for <paramref name="request"/>, with when its prompt is expected to be read and its slot given back.</summary>
    private AdmissionLease NewLease(ModelBackend backend, AdmissionRequest request, TimeSpan predicted)
    {
        var now = _time.GetTimestamp();
        var pending = PendingPrefill(backend, now);
        var prompt = UncachedTokens(backend, request);
        var service = pending + backend.Speed.ServiceTime(prompt,
            request.MaxOutputTokens is { } max ? Math.Min(max, backend.Speed.OutputTokens) : null, streams: _running[backend].Count + 1);
        return new AdmissionLease(this, backend, request, now, predicted, At(now, service), At(now, pending + backend.Speed.FirstTokenTime(prompt)));
    }

    private long At(long now, TimeSpan after) => now + (long)(after.TotalSeconds * _time.TimestampFrequency);

    /// <summary>
    /// Predicted time from sending <paramref name="request"/> to <paramref name="backend"/> now to its first token: its
    /// own prompt, after what is left of the prompts the backend is reading for calls admitted just before (llama-server
    /// reads them in the same batches, so a prompt that arrives while another is read waits for it).
    /// </summary>
    private TimeSpan FirstTokenTime(ModelBackend backend, AdmissionRequest request) =>
        PendingPrefill(backend, _time.GetTimestamp()) + backend.Speed.FirstTokenTime(UncachedTokens(backend, request));

    /// <summary>What is left of the prompts <paramref name="backend"/> is expected to be reading now, for the calls it runs.</summary>
    private TimeSpan PendingPrefill(ModelBackend backend, long now)
    {
        long pending = 0;
        foreach (var lease in _running[backend])
        {
            pending += Math.Max(0, lease.FirstTokenExpected - now);
        }

        return TimeSpan.FromSeconds((double)pending / _time.TimestampFrequency);
    }

    /// <summary>
    /// The prompt tokens <paramref name="backend"/> would read for <paramref name="request"/>: for a follow-up on the
    /// replica that served its conversation (or the only one), those after its last assistant turn; else its prompt
    /// less the share the backend typically finds in its cache (a shared system prompt, say).
    /// </summary>
    private double UncachedTokens(ModelBackend backend, AdmissionRequest request)
    {
        var speed = backend.Speed;
        var home = request.CachedChars > 0
            && (_byOperation[request.Operation].Length == 1 || (request.Affinity is { } affinity && _chooser.HomeOf(affinity) == backend));
        var tokens = home
            ? (request.PromptChars - request.CachedChars) / speed.CharsPerToken
            : request.PromptChars / speed.CharsPerToken * (1 - speed.CachedShare);
        return Math.Max(1, tokens);
    }

    /// <summary>
    /// The time to first token <paramref name="request"/> can expect when it has to wait: when a slot would come free
    /// for it (<see cref="SlotForecast"/>, with the requests ahead of it in the round-robin between keys), then its
    /// prompt on that backend.
    /// </summary>
    private (TimeSpan FirstToken, TimeSpan Prompt) Predict(AdmissionRequest request)
    {
        if (!_byOperation.TryGetValue(request.Operation, out var candidates))
        {
            return (TimeSpan.Zero, TimeSpan.Zero);
        }

        var healthy = candidates.Where(b => b.IsHealthy).ToArray();
        var now = _time.GetTimestamp();
        var (backend, wait) = SlotForecast.Earliest((healthy.Length > 0 ? healthy : candidates).Select(Slots), Ahead(request));
        // By the time a slot frees, the prompts being read now are read.
        var prompt = backend is null ? TimeSpan.Zero : backend.Speed.FirstTokenTime(UncachedTokens(backend, request));
        return (wait + prompt, prompt);

        // A backend as the forecast takes it: its usable slots, when its calls are expected to end, a typical call's time.
        (ModelBackend, int, List<double>, double) Slots(ModelBackend b)
        {
            var capacity = Capacity(b);
            return (b, capacity, [.. _running[b].Select(lease => Math.Max(0, (double)(lease.ExpectedEnd - now) / _time.TimestampFrequency))],
                b.Speed.ServiceTime(null, null, capacity).TotalSeconds);
        }
    }

    /// <summary>
    /// Waiters of the same operation served before <paramref name="request"/> would be: turns go round the keys, so
    /// from each key as many as this one's own key has waiting, and one more.
    /// </summary>
    private int Ahead(AdmissionRequest request)
    {
        var mine = _queues.TryGetValue(request.Partition, out var own) ? own.Count(w => w.Request.Operation == request.Operation) : 0;
        var ahead = 0;
        foreach (var (partition, queue) in _queues)
        {
            var waiting = queue.Count(w => w.Request.Operation == request.Operation);
            ahead += partition == request.Partition ? waiting : Math.Min(waiting, mine + 1);
        }

        return ahead;
    }

    /// <summary>Which backends the decode-rate floor holds under their slots now, in words; null when it holds none back.</summary>
    private string? FloorHeld(string operation)
    {
        if (_minTokensPerSecond is not { } floor || !_byOperation.TryGetValue(operation, out var backends))
        {
            return null;
        }

        var held = backends.Select(b => (b, Capacity(b))).Where(c => c.Item2 < c.b.Slots)
            .Select(c => $"{c.b.Name} to {c.Item2} of its {c.b.Slots} slots").ToArray();
        return held.Length == 0
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"Slo:MinTokensPerSecond ({floor} tokens/s a stream) holds {string.Join(", ", held)}.");
    }
}
