using System.Globalization;

namespace LlmApp.AppHost.Memory;

/// <summary>
/// What one llama-server needs, in bytes: the model file (memory-mapped, so all of it once every page is touched), the
/// KV cache of <see cref="Slots"/> × <see cref="SlotContext"/> tokens, the overhead (compute and output buffers, the
/// process itself), the page-cache headroom that keeps the mapped weights from being re-read for every token, and the
/// prompt cache, which fills up to its limit as conversations come and go.
/// </summary>
public sealed record MemoryEstimate(long Model, long KvCache, long Overhead, long PageCacheHeadroom, long PromptCache, int Slots, long SlotContext)
{
    public long Total => Model + KvCache + Overhead + PageCacheHeadroom + PromptCache;

    /// <summary>"model 4.58 GiB + KV cache 1.00 GiB for 2 slots × 4096 tokens + overhead 0.13 GiB + ...": the parts, for the error line.</summary>
    public string Parts()
    {
        List<string> parts = [$"model {Gib(Model)}"];
        if (KvCache > 0)
        {
            parts.Add($"KV cache {Gib(KvCache)} for {Slots} slot{(Slots == 1 ? "" : "s")} × {SlotContext} tokens");
        }

        parts.Add($"overhead {Gib(Overhead)}");
        if (PageCacheHeadroom > 0)
        {
            parts.Add($"page-cache headroom {Gib(PageCacheHeadroom)}");
        }
        if (PromptCache > 0)
        {
            parts.Add($"prompt cache {Gib(PromptCache)} (Llm:LlamaCpp:PromptCacheMiB)");
        }

        return string.Join(" + ", parts);
    }

    /// <summary>Bytes as GiB with two decimals, the unit of every memory figure the check prints.</summary>
    public static string Gib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.00} GiB");
}
