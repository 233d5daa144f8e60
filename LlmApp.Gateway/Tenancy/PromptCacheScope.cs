using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Tenancy;

/// <summary>
/// Keeps one API key's prompts from being answered out of another's in the backend's prompt cache, when
/// <c>Backend:PromptCacheIsolation</c> is <c>PerKey</c>. For vLLM it is a <c>cache_salt</c> of the key's. For
/// llama-server, which has no such thing, it remembers, per key, the conversations that key had answered (a hash of
/// their messages; the most recent <see cref="ConversationsPerKey"/>), and lets the backend use its cache only for a
/// request that follows one of them: its messages, less the last assistant turn and what came after it, are one the key
/// sent. A first turn, or a history the key never had, is read whole, so it learns nothing of what others left there.
/// </summary>
internal sealed class PromptCacheScope(IOptions<BackendOptions> options)
{
    /// <summary>How many conversations a key is remembered for: enough for its conversations in flight, bounded.</summary>
    public const int ConversationsPerKey = 4096;

    private readonly bool _enabled = options.Value.PromptCacheIsolation == PromptCacheIsolation.PerKey;

    /// <summary>Whether keys are kept apart at all (<c>PerKey</c>); otherwise nothing is marked or remembered.</summary>
    public bool IsEnabled => _enabled;
    private readonly ConcurrentDictionary<string, RecentHashes> _conversations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _salts = new(StringComparer.Ordinal);

    /// <summary>Marks <paramref name="chatOptions"/> with what the backend may use of its cache for <paramref name="key"/>'s request.</summary>
    public void Apply(string key, IReadOnlyList<ChatMessage> messages, ChatOptions chatOptions)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(chatOptions);
        if (!_enabled)
        {
            return;
        }

        // Both: the writer sends the one the backend's kind understands (replicas may be of either).
        chatOptions.AdditionalProperties ??= [];
        chatOptions.AdditionalProperties[ChatOptionKeys.CacheSalt] = _salts.GetOrAdd(key, Salt);
        chatOptions.AdditionalProperties[ChatOptionKeys.CachePrompt] = FollowsOwnConversation(key, messages);
    }

    /// <summary>Remembers that <paramref name="key"/> had these messages answered, so that their follow-up may use the cache.</summary>
    public void Answered(string key, IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (_enabled)
        {
            _conversations.GetOrAdd(key, static _ => new RecentHashes(ConversationsPerKey)).Add(Hash(messages, messages.Count));
        }
    }

    private bool FollowsOwnConversation(string key, IReadOnlyList<ChatMessage> messages)
    {
        // The earlier turn: everything before the last assistant message, which was its answer.
        var answer = messages.Count - 1;
        while (answer >= 0 && messages[answer].Role != ChatRole.Assistant)
        {
            answer--;
        }

        return answer > 0 && _conversations.TryGetValue(key, out var seen) && seen.Contains(Hash(messages, answer));
    }

    /// <summary>A hash of the first <paramref name="count"/> messages: their roles, text, tool calls and results.</summary>
    private static ulong Hash(IReadOnlyList<ChatMessage> messages, int count)
    {
        var hash = new XxHash3();
        for (var i = 0; i < count; i++)
        {
            hash.Append(MemoryMarshal.AsBytes(messages[i].Role.Value.AsSpan()));
            foreach (var content in messages[i].Contents)
            {
                var text = content switch
                {
                    TextContent t => t.Text,
                    FunctionCallContent call => call.Name + (call.RawRepresentation as string),
                    FunctionResultContent result => result.CallId + result.Result,
                    _ => null,
                };
                hash.Append(MemoryMarshal.AsBytes((text ?? "").AsSpan()));
                hash.Append([0]);
            }

            hash.Append([1]);
        }

        return BinaryPrimitives.ReadUInt64LittleEndian(hash.GetCurrentHash());
    }

    private static string Salt(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("llmapp-cache-salt:" + key)))[..32];

    /// <summary>The last <c>capacity</c> hashes added, as a set: the oldest goes when a new one comes.</summary>
    private sealed class RecentHashes(int capacity)
    {
        private readonly Lock _gate = new();
        private readonly HashSet<ulong> _set = [];
        private readonly Queue<ulong> _order = new();

        public void Add(ulong hash)
        {
            lock (_gate)
            {
                if (!_set.Add(hash))
                {
                    return;
                }

                _order.Enqueue(hash);
                if (_order.Count > capacity)
                {
                    _set.Remove(_order.Dequeue());
                }
            }
        }

        public bool Contains(ulong hash)
        {
            lock (_gate)
            {
                return _set.Contains(hash);
            }
        }
    }
}
