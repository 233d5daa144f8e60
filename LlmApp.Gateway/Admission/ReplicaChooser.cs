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
internal sealed class ReplicaChooser(BackendRouting routing)
{
    // Conversations that moved off their rendezvous replica (it was full or down), so that they stay where their
    // prefix now is. Bounded: past it the map starts again, and conversations fall back to rendezvous.
    private const int MaxMoved = 100_000;

    private readonly Dictionary<ulong, ModelBackend> _moved = [];
    private readonly Dictionary<ModelBackend, ulong> _nameHashes = [];
    private int _next;

    public BackendRouting Routing { get; } = routing;

    /// <summary>The backend for a request with <paramref name="affinity"/> (see <see cref="PrefixAffinity"/>); null when none has a free slot.</summary>
    public ModelBackend? Choose(IReadOnlyList<ModelBackend> candidates, ulong? affinity, Func<ModelBackend, int> free)
    {
        if (candidates.Count == 1)
        {
            return free(candidates[0]) > 0 ? candidates[0] : null;
        }

        var anyHealthy = candidates.Any(b => b.IsHealthy);
        bool Usable(ModelBackend b) => free(b) > 0 && (b.IsHealthy || !anyHealthy);

        switch (Routing)
        {
            case BackendRouting.Affine when affinity is { } key:
                var home = Rendezvous(candidates, key);
                var preferred = _moved.TryGetValue(key, out var moved) && candidates.Contains(moved) ? moved : home;
                if (Usable(preferred))
                {
                    return preferred;
                }

                var chosen = LeastLoaded(candidates, Usable, free);
                if (chosen is not null)
                {
                    Remember(key, chosen, home);
                }

                return chosen;

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

    /// <summary>A conversation now on <paramref name="backend"/> (moved there by failover) stays there.</summary>
    public void Moved(ulong affinity, ModelBackend backend, IReadOnlyList<ModelBackend> candidates) =>
        Remember(affinity, backend, Rendezvous(candidates, affinity));

    /// <summary>
    /// Rendezvous (highest random weight) hashing: each backend scores the key, the highest wins. Adding or removing a
    /// replica moves only the conversations that score highest on it. Health plays no part: a conversation's home is
    /// where it goes when nothing is wrong, and one that had to leave it is remembered as moved.
    /// </summary>
    private ModelBackend Rendezvous(IReadOnlyList<ModelBackend> candidates, ulong key)
    {
        ModelBackend? best = null;
        ulong bestScore = 0;
        foreach (var backend in candidates)
        {
            var score = Mix(key ^ NameHash(backend));
            if (best is null || score > bestScore)
            {
                (best, bestScore) = (backend, score);
            }
        }

        return best!;
    }

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

    private void Remember(ulong key, ModelBackend backend, ModelBackend home)
    {
        if (backend == home)
        {
            _moved.Remove(key);
            return;
        }

        if (_moved.Count >= MaxMoved)
        {
            _moved.Clear();
        }

        _moved[key] = backend;
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
