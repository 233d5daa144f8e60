using System.Diagnostics.Metrics;
using LlmApp.Gateway.Admission;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Configuration;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LlmApp.Tests.Gateway;

/// <summary>
/// Admission across replicas on its own: prefix-affine routing (rendezvous hashing, moving when full or down and staying
/// moved), round-robin and least-loaded, and failover's re-admission on another replica. The replicas are backend records with slots,
/// not servers: what runs against real llama-servers is in <c>Replicas/ReplicaTests</c>.
/// </summary>
public sealed class ReplicaRoutingTests : IDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly TestLifetime _lifetime = new();

    [Fact]
    public async Task EveryTurnOfAConversationGoesToTheSameReplicaAndConversationsSpreadOverAll()
    {
        var backends = Backends(4, slots: 64);
        using var admission = Create(backends, BackendRouting.Affine);
        var homes = new Dictionary<ulong, string>();
        for (ulong conversation = 1; conversation <= 200; conversation++)
        {
            for (var turn = 0; turn < 3; turn++)
            {
                var lease = (await admission.AdmitAsync(Chat(conversation), CancellationToken.None)).Lease!;
                Assert.Equal(homes.TryAdd(conversation, lease.Backend.Name) ? lease.Backend.Name : homes[conversation], lease.Backend.Name);
                lease.Dispose();
            }
        }

        // Rendezvous hashing spreads them about evenly: each of 4 replicas gets 50 ± 25 of 200.
        Assert.All(backends, b => Assert.InRange(homes.Values.Count(h => h == b.Name), 25, 75));
    }

    [Fact]
    public async Task FollowUpsOfConversationsItDoesNotKnowGoByRendezvousAndAddingAReplicaMovesOnlyItsShare()
    {
        // As after a restart of the gateway, or with a second gateway: no memory of where conversations went.
        var three = Backends(3, slots: 64);
        var four = three.Append(Backend("llm-4", slots: 64)).ToArray();
        using var before = Create(three, BackendRouting.Affine);
        using var after = Create(four, BackendRouting.Affine);

        var moved = 0;
        for (ulong conversation = 1; conversation <= 400; conversation++)
        {
            using var a = (await before.AdmitAsync(Chat(conversation) with { FollowUp = true }, CancellationToken.None)).Lease!;
            using var b = (await after.AdmitAsync(Chat(conversation) with { FollowUp = true }, CancellationToken.None)).Lease!;
            if (a.Backend.Name != b.Backend.Name)
            {
                moved++;
                Assert.Equal("llm-4", b.Backend.Name);
            }
        }

        Assert.InRange(moved, 50, 150);
    }

    [Fact]
    public async Task NewConversationsSpreadEvenlyWhateverTheirHashes()
    {
        var backends = Backends(2, slots: 64);
        using var admission = Create(backends, BackendRouting.Affine);
        var leases = new List<AdmissionLease>();
        for (ulong conversation = 1; conversation <= 10; conversation++)
        {
            leases.Add((await admission.AdmitAsync(Chat(conversation), CancellationToken.None)).Lease!);
        }

        Assert.Equal(5, leases.Count(l => l.Backend == backends[0]));
        leases.ForEach(l => l.Dispose());
    }

    [Fact]
    public async Task WhenItsReplicaIsBusyAConversationWaitsForItThereWithinTheAffinityWait()
    {
        var backends = Backends(2, slots: 1);
        using var admission = Create(backends, BackendRouting.Affine, affinityWait: TimeSpan.FromMinutes(1));
        var first = (await admission.AdmitAsync(Chat(42), CancellationToken.None)).Lease!;
        var home = first.Backend;

        // The other replica is free, but the follow-up waits for the one that holds the conversation.
        var followUp = admission.AdmitAsync(Chat(42) with { FollowUp = true }, CancellationToken.None);
        await Task.Delay(100);
        Assert.False(followUp.IsCompleted);
        first.Dispose();

        using var granted = (await followUp.WaitAsync(TimeSpan.FromSeconds(10))).Lease!;
        Assert.Equal(home, granted.Backend);
    }

    [Fact]
    public async Task AFirstTurnDoesNotWaitForABusyReplicaItGoesWhereThereIsRoom()
    {
        // Many users may open with the same system prompt and greeting: one key, which must not queue them all on one replica.
        var backends = Backends(2, slots: 1);
        using var admission = Create(backends, BackendRouting.Affine, affinityWait: TimeSpan.FromMinutes(1));
        using var first = (await admission.AdmitAsync(Chat(42), CancellationToken.None)).Lease!;

        using var second = (await admission.AdmitAsync(Chat(42), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10))).Lease!;

        Assert.NotEqual(first.Backend, second.Backend);
    }

    [Fact]
    public async Task PastTheAffinityWaitAConversationMovesToTheLeastLoadedAndStaysThere()
    {
        var backends = Backends(2, slots: 1);
        using var admission = Create(backends, BackendRouting.Affine, affinityWait: TimeSpan.Zero);
        var first = (await admission.AdmitAsync(Chat(42), CancellationToken.None)).Lease!;
        var home = first.Backend;

        var moved = (await admission.AdmitAsync(Chat(42) with { FollowUp = true }, CancellationToken.None)).Lease!;
        Assert.NotEqual(home, moved.Backend);
        first.Dispose();
        moved.Dispose();

        using var next = (await admission.AdmitAsync(Chat(42) with { FollowUp = true }, CancellationToken.None)).Lease!;
        Assert.Equal(moved.Backend, next.Backend);
    }

    [Fact]
    public async Task AReplicaThatIsDownGetsNothingWhileAnotherIsUp()
    {
        var backends = Backends(2, slots: 4);
        backends[0].SetHealthy(false);
        using var admission = Create(backends, BackendRouting.Affine);

        for (ulong conversation = 1; conversation <= 20; conversation++)
        {
            using var lease = (await admission.AdmitAsync(Chat(conversation), CancellationToken.None)).Lease!;
            Assert.Equal(backends[1], lease.Backend);
        }
    }

    [Fact]
    public async Task RoundRobinTakesTurnsAndLeastLoadedFillsTheEmptiest()
    {
        using (var roundRobin = Create(Backends(2, slots: 8), BackendRouting.RoundRobin))
        {
            var names = new List<string>();
            for (var i = 0; i < 4; i++)
            {
                using var lease = (await roundRobin.AdmitAsync(Chat(7), CancellationToken.None)).Lease!;
                names.Add(lease.Backend.Name);
            }

            Assert.Equal(["llm-1", "llm-2", "llm-1", "llm-2"], names);
        }

        using var leastLoaded = Create(Backends(2, slots: 8), BackendRouting.LeastLoaded);
        var held = new List<AdmissionLease>();
        for (var i = 0; i < 6; i++)
        {
            held.Add((await leastLoaded.AdmitAsync(Chat(7), CancellationToken.None)).Lease!);
        }

        Assert.Equal(3, held.Count(l => l.Backend.Name == "llm-1"));
        held.ForEach(l => l.Dispose());
    }

    [Fact]
    public async Task AFailedReplicasSlotMovesToAnotherAndTheConversationFollows()
    {
        var backends = Backends(2, slots: 1);
        using var admission = Create(backends, BackendRouting.Affine);
        var lease = (await admission.AdmitAsync(Chat(9), CancellationToken.None)).Lease!;
        var failed = lease.Backend;

        var moved = await admission.ReadmitAsync(lease, s_wait, CancellationToken.None);
        Assert.NotNull(moved);
        var survivor = moved.Backend;
        Assert.NotEqual(failed, survivor);
        Assert.False(failed.IsHealthy);
        Assert.Equal(0, admission.Busy(failed));

        // The failed replica answers its probes again; the conversation stays where it moved.
        moved.Dispose();
        failed.SetHealthy(true);
        using var next = (await admission.AdmitAsync(Chat(9), CancellationToken.None)).Lease!;
        Assert.Equal(survivor, next.Backend);
    }

    [Fact]
    public async Task AMovedCallWaitsItsTurnWhenEveryOtherReplicaIsFull()
    {
        var backends = Backends(2, slots: 1);
        using var admission = Create(backends, BackendRouting.LeastLoaded);
        var first = (await admission.AdmitAsync(Chat(1), CancellationToken.None)).Lease!;
        var second = (await admission.AdmitAsync(Chat(2), CancellationToken.None)).Lease!;
        var failed = first.Backend;

        var moving = admission.ReadmitAsync(first, s_wait, CancellationToken.None);
        Assert.False(moving.IsCompleted);
        second.Dispose();

        using var moved = await moving.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(moved);
        Assert.NotEqual(failed, moved.Backend);
    }

    [Fact]
    public async Task WhenEveryOtherReplicaIsDownThereIsNothingToMoveTo()
    {
        var backends = Backends(2, slots: 1);
        backends[1].SetHealthy(false);
        using var admission = Create(backends, BackendRouting.LeastLoaded);
        var lease = (await admission.AdmitAsync(Chat(1), CancellationToken.None)).Lease!;

        Assert.Null(await admission.ReadmitAsync(lease, s_wait, CancellationToken.None));
        Assert.Equal(0, admission.Busy(backends[0]));
    }

    [Fact]
    public async Task WithOneBackendThereIsNothingToMoveTo()
    {
        var backend = Backend("llm", slots: 2);
        using var admission = Create([backend], BackendRouting.Affine);
        var lease = (await admission.AdmitAsync(Chat(1), CancellationToken.None)).Lease!;

        Assert.False(admission.UsesAffinity(Operations.Chat));
        Assert.Null(await admission.ReadmitAsync(lease, s_wait, CancellationToken.None));
        Assert.Equal(0, admission.Busy(backend));
    }

    public void Dispose()
    {
        _lifetime.Dispose();
        _services.Dispose();
    }

    private static AdmissionRequest Chat(ulong affinity) => new(Operations.Chat, "", s_wait, Affinity: affinity * 0x9E3779B97F4A7C15UL);

    private static ModelBackend[] Backends(int count, int slots)
    {
        var backends = Enumerable.Range(1, count).Select(i => Backend($"llm-{i}", slots)).ToArray();
        Array.ForEach(backends, b => b.SetHealthy(true));
        return backends;
    }

    private static ModelBackend Backend(string name, int slots)
    {
        var backend = BackendResilience.Create(name, Operations.Chat,
            new BackendOptions { Name = name, Endpoint = new Uri("http://127.0.0.1:1"), Model = "tiny" }, new ResilienceOptions { MaxConcurrentRequests = slots });
        backend.SetHealthy(true);
        return backend;
    }

    private AdmissionControl Create(ModelBackend[] backends, BackendRouting routing, TimeSpan? affinityWait = null) =>
        new(new BackendPool(backends), Options.Create(new ResilienceOptions { QueueLimit = 8 }), _lifetime, _services.GetRequiredService<IMeterFactory>(),
            TimeProvider.System, Options.Create(new BackendOptions { Routing = routing, AffinityWait = affinityWait ?? TimeSpan.Zero }));
}
