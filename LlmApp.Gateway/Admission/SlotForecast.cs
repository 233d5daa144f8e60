using LlmApp.Gateway.Backend;

namespace LlmApp.Gateway.Admission;

/// <summary>
/// When a slot would come free for a request that cannot have one now: each backend's slots free as its running calls
/// are expected to end (a slot held back by the decode-rate floor frees only when the streams over it have ended);
/// each request ahead in the queue takes the first slot to free and holds it for a typical call's time; the request
/// takes the next. Called under admission's lock, only for a request that has to wait.
/// </summary>
internal static class SlotForecast
{
    /// <param name="backends">Each backend with its usable slots, the seconds until each of its running calls ends, and a typical call's seconds.</param>
    /// <param name="ahead">Requests served before this one.</param>
    public static (ModelBackend? Backend, TimeSpan Wait) Earliest(
        IEnumerable<(ModelBackend Backend, int Capacity, List<double> Remaining, double TypicalSeconds)> backends, int ahead)
    {
        var free = new PriorityQueue<(ModelBackend Backend, double Typical), double>();
        foreach (var (backend, capacity, remaining, typical) in backends)
        {
            remaining.Sort();
            for (var slot = 0; slot < capacity; slot++)
            {
                var ending = remaining.Count - capacity + slot;
                free.Enqueue((backend, typical), ending < 0 ? 0 : remaining[ending]);
            }
        }

        for (var i = 0; i < ahead && free.Count > 0; i++)
        {
            free.TryDequeue(out var slot, out var at);
            free.Enqueue(slot, at + slot.Typical);
        }

        return free.TryDequeue(out var first, out var wait) ? (first.Backend, TimeSpan.FromSeconds(wait)) : (null, TimeSpan.Zero);
    }
}
