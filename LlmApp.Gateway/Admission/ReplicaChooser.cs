using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using LlmApp.Gateway.Backend;

namespace LlmApp.Gateway.Admission;

/// <summary>
/// Picks the backend a request gets a slot on, by <see cref="BackendRouting"/>, among those that serve its operation:
/// healthy ones only while any is healthy (a request waits for a slot on a live replica rather than fail on a dead
/// one), and with a free slot. Called by <see cref="AdmissionControl"/> under its lock, so it keeps no lock of its own.
/// </summary>
/// <remarks>
/// Affine routing keeps each conversation (its <see cref="PrefixAffinity"/> key) on one replica, its home, whose
/// prompt cache holds the conversation so far:
/// <list type="bullet">
/// <item>A new conversation (no assistant turn yet) goes home to the replica with the fewest conversations, so that
/// replicas share the load evenly; a follow-up whose conversation this gateway does not know (it restarted, or another
/// gateway placed it) goes to its rendezvous-hash replica, which every gateway computes alike.</item>
/// <item>When its home is full, a follow-up waits for a slot there, up to <see cref="BackendOptions.AffinityWait"/>:
/// reading the whole conversation again elsewhere costs more than one answer's wait (30 s for a 458-token prompt of an
/// 8B model on 2 cores). Past that, or when its home is down, or at once for a first turn, it goes to the least-loaded
/// replica, which becomes its home.</item>
/// </list>
/// </remarks>
internal sealed class ReplicaChooser(BackendRouting routing, TimeSpan affinityWait, TimeProvider time)
{
    // Conversations this gateway has placed. Bounded: past it the map starts again, and follow-ups fall back to rendezvous.
    private const int MaxConversations = 100_000;

    private readonly Dictionary<ulong, ModelBackend> _homes = [];
    private readonly Dictionary<ModelBackend, int> _conversations = [];
    private readonly Dictionary<ModelBackend, ulong> _nameHashes = [];
    private int _next;

    public BackendRouting Routing { get; } = routing;

    /// <summary>
    /// The backend for <paramref name="request"/>, which has waited since <paramref name="since"/> (a timestamp); null
    /// when none will take it now.
    /// </summary>
    public ModelBackend? Choose(IReadOnlyList<ModelBackend> candidates, AdmissionRequest request, long since, Func<ModelBackend, int> free)
    {
        if (candidates.Count == 1)
        {
            return free(candidates[0]) > 0 ? candidates[0] : null;
        }

        var anyHealthy = candidates.Any(b => b.IsHealthy);
        bool Live(ModelBackend b) => b.IsHealthy || !anyHealthy;
        bool Usable(ModelBackend b) => free(b) > 0 && Live(b);

        switch (Routing)
        {
            case BackendRouting.Affine when request.Affinity is { } key:
                var home = Home(candidates, key, request.FollowUp, Live);
                if (Usable(home))
                {
                    return Place(key, home);
                }

                if (request.FollowUp && Live(home) && time.GetElapsedTime(since) < affinityWait)
                {
                    // Its replica is up but busy: wait for a slot there rather than read the conversation again elsewhere.
                    // (A first turn has nothing of its own cached anywhere, and may share its key with other users' first
                    // turns, which must not all queue for one replica: it goes where there is room.)
                    return null;
                }

                return LeastLoaded(candidates, Usable, free) is { } elsewhere ? Place(key, elsewhere) : null;

            case BackendRouting.RoundRobin:
                for (var i = 0; i < candidates.Count; i++)
                {
                    var backend = candidates[(_next + i) % candidates.Count];
                    if (Usable(backend))
                    {
                        _next = (_next + i + 1) % candidates.Count;
                        return backend;
                    }
                }

                return null;

            default:
                return LeastLoaded(candidates, Usable, free);
        }
    }

    /// <summary>A conversation now on <paramref name="backend"/> (moved there by failover) has its home there.</summary>
    public void Moved(ulong affinity, ModelBackend backend) => Place(affinity, backend);

    /// <summary>The replica the conversation of <paramref name="affinity"/> was last placed on; null if none.</summary>
    public ModelBackend? HomeOf(ulong affinity) => _homes.GetValueOrDefault(affinity);

    private ModelBackend Home(IReadOnlyList<ModelBackend> candidates, ulong key, bool followUp, Func<ModelBackend, bool> live)
    {
        if (_homes.TryGetValue(key, out var known) && candidates.Contains(known))
        {
            return known;
        }

        if (followUp)
        {
            return Rendezvous(candidates, key);
        }

        // A new conversation: the live replica with the fewest conversations; ties broken by rendezvous, so that
        // gateways agree as far as they can.
        ModelBackend? best = null;
        foreach (var backend in candidates.Where(live).OrderByDescending(b => Score(b, key)))
        {
            if (best is null || _conversations.GetValueOrDefault(backend) < _conversations.GetValueOrDefault(best))
            {
                best = backend;
            }
        }

        return best ?? Rendezvous(candidates, key);
    }

    private ModelBackend Place(ulong key, ModelBackend backend)
    {
        if (_homes.TryGetValue(key, out var previous))
        {
            if (previous == backend)
            {
                return backend;
            }

            _conversations[previous]--;
        }
        else if (_homes.Count >= MaxConversations)
        {
            _homes.Clear();
            _conversations.Clear();
        }

        _homes[key] = backend;
        _conversations[backend] = _conversations.GetValueOrDefault(backend) + 1;
        return backend;
    }

    /// <summary>
    /// Rendezvous (highest random weight) hashing: each backend scores the key, the highest wins. Adding or removing a
    /// replica moves only the conversations that score highest on it.
    /// </summary>
    private ModelBackend Rendezvous(IReadOnlyList<ModelBackend> candidates, ulong key) => candidates.MaxBy(b => Score(b, key))!;

    private ulong Score(ModelBackend backend, ulong key) => Mix(key ^ NameHash(backend));

    private static ModelBackend? LeastLoaded(IReadOnlyList<ModelBackend> candidates, Func<ModelBackend, bool> usable, Func<ModelBackend, int> free)
    {
        ModelBackend? best = null;
        foreach (var backend in candidates)
        {
            if (usable(backend) && (best is null || free(backend) > free(best)))
            {
                best = backend;
            }
        }

        return best;
    }

    private ulong NameHash(ModelBackend backend)
    {
        if (!_nameHashes.TryGetValue(backend, out var hash))
        {
            // Stable across restarts and gateways: two gateways in front of the same replicas agree.
            _nameHashes[backend] = hash = BinaryPrimitives.ReadUInt64LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(backend.Name)));
        }

        return hash;
    }

    /// <summary>SplitMix64's finaliser: spreads the bits, so that each backend's score is independent of the others'.</summary>
    private static ulong Mix(ulong value)
    {
        value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9UL;
        value = (value ^ (value >> 27)) * 0x94d049bb133111ebUL;
        return value ^ (value >> 31);
    }
}
