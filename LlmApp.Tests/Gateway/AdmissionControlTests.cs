using System.Diagnostics.Metrics;
using LlmApp.Gateway.Admission;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Configuration;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LlmApp.Tests.Gateway;

/// <summary>Admission on its own, with a clock the test moves: slots, the bounded queue, its deadline, fairness.</summary>
public sealed class AdmissionControlTests : IDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_realTimeLimit = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly TestLifetime _lifetime = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    [Fact]
    public async Task SlotsAreGivenAtOnceThenTheQueueFillsThenRequestsAreRefused()
    {
        using var admission = Create(queueLimit: 2, slots: 2);

        var first = await admission.AdmitAsync(Chat(), CancellationToken.None);
        var second = await admission.AdmitAsync(Chat(), CancellationToken.None);
        var queued = new[] { admission.AdmitAsync(Chat(), CancellationToken.None), admission.AdmitAsync(Chat(), CancellationToken.None) };
        var refused = await admission.AdmitAsync(Chat(), CancellationToken.None);

        Assert.True(first.IsAdmitted && second.IsAdmitted);
        Assert.All(queued, q => Assert.False(q.IsCompleted));
        Assert.Equal(2, admission.Queued);
        Assert.Equal(AdmissionOutcome.QueueFull, refused.Outcome);
    }

    [Fact]
    public async Task AReleasedSlotGoesToTheOldestWaiter()
    {
        using var admission = Create(queueLimit: 4, slots: 1);
        var holder = await admission.AdmitAsync(Chat(), CancellationToken.None);
        var older = admission.AdmitAsync(Chat(), CancellationToken.None);
        var newer = admission.AdmitAsync(Chat(), CancellationToken.None);

        holder.Lease!.Dispose();

        var granted = await older.WaitAsync(s_realTimeLimit);
        Assert.True(granted.IsAdmitted);
        Assert.False(newer.IsCompleted);
        granted.Lease!.Dispose();
        Assert.True((await newer.WaitAsync(s_realTimeLimit)).IsAdmitted);
    }

    [Fact]
    public async Task ARequestWaitsNoLongerThanItsDeadline()
    {
        using var admission = Create(queueLimit: 4, slots: 1);
        _ = await admission.AdmitAsync(Chat(), CancellationToken.None);
        var waiting = admission.AdmitAsync(Chat(), CancellationToken.None);

        _time.Advance(s_wait - TimeSpan.FromSeconds(1));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(AdmissionOutcome.QueueTimeout, (await waiting.WaitAsync(s_realTimeLimit)).Outcome);
        Assert.Equal(0, admission.Queued);
    }

    [Fact]
    public async Task AClientThatLeavesTheQueueGivesUpItsPlace()
    {
        using var admission = Create(queueLimit: 4, slots: 1);
        var holder = await admission.AdmitAsync(Chat(), CancellationToken.None);
        using var leaving = new CancellationTokenSource();
        var left = admission.AdmitAsync(Chat(), leaving.Token);
        var staying = admission.AdmitAsync(Chat(), CancellationToken.None);

        await leaving.CancelAsync();
        Assert.Equal(AdmissionOutcome.ClientLeft, (await left.WaitAsync(s_realTimeLimit)).Outcome);
        holder.Lease!.Dispose();

        Assert.True((await staying.WaitAsync(s_realTimeLimit)).IsAdmitted);
        Assert.Equal(0, admission.Queued);
    }

    [Fact]
    public async Task OnceTheHostIsStoppingNothingIsAdmittedAndTheQueueEmpties()
    {
        using var admission = Create(queueLimit: 4, slots: 1);
        _ = await admission.AdmitAsync(Chat(), CancellationToken.None);
        var waiting = admission.AdmitAsync(Chat(), CancellationToken.None);

        _lifetime.StopApplication();

        Assert.Equal(AdmissionOutcome.ShuttingDown, (await waiting.WaitAsync(s_realTimeLimit)).Outcome);
        Assert.Equal(AdmissionOutcome.ShuttingDown, (await admission.AdmitAsync(Chat(), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task WaitingPartitionsAreServedInTurnSoNoCallerTakesEverySlot()
    {
        using var admission = Create(queueLimit: 8, slots: 1);
        var holder = await admission.AdmitAsync(Chat(), CancellationToken.None);
        var waiting = new Dictionary<string, Task<AdmissionResult>>
        {
            ["a0"] = admission.AdmitAsync(Chat("a"), CancellationToken.None),
            ["a1"] = admission.AdmitAsync(Chat("a"), CancellationToken.None),
            ["a2"] = admission.AdmitAsync(Chat("a"), CancellationToken.None),
            ["b"] = admission.AdmitAsync(Chat("b"), CancellationToken.None),
        };

        var order = new List<string>();
        var lease = holder.Lease!;
        while (waiting.Count > 0)
        {
            lease.Dispose();
            var granted = await Task.WhenAny(waiting.Values).WaitAsync(s_realTimeLimit);
            var name = waiting.Single(w => w.Value == granted).Key;
            waiting.Remove(name);
            order.Add(name);
            lease = (await granted).Lease!;
            Assert.All(waiting.Values, w => Assert.False(w.IsCompleted, "one slot is given at a time"));
        }

        Assert.Equal(["a0", "b", "a1", "a2"], order);
    }

    [Fact]
    public async Task AKeyAtItsOwnLimitWaitsWhileAnotherKeyTakesTheFreeSlots()
    {
        using var admission = Create(queueLimit: 8, slots: 3);
        var first = await admission.AdmitAsync(Chat("a", limit: 1), CancellationToken.None);
        var second = admission.AdmitAsync(Chat("a", limit: 1), CancellationToken.None);

        // "a" waits at its limit with two slots free; "b", arriving after it, is not held behind it.
        var other = await admission.AdmitAsync(Chat("b"), CancellationToken.None).WaitAsync(s_realTimeLimit);
        Assert.True(first.IsAdmitted && other.IsAdmitted);
        Assert.False(second.IsCompleted);

        first.Lease!.Dispose();
        var granted = await second.WaitAsync(s_realTimeLimit);
        Assert.True(granted.IsAdmitted);
        Assert.Equal("a", granted.Lease!.Partition);
    }

    [Fact]
    public async Task AWaitingKeyAtItsLimitIsPassedOverForTheNextKeysTurn()
    {
        using var admission = Create(queueLimit: 8, slots: 2);
        var a = await admission.AdmitAsync(Chat("a", limit: 1), CancellationToken.None);
        var b = await admission.AdmitAsync(Chat("b"), CancellationToken.None);
        var aWaits = admission.AdmitAsync(Chat("a", limit: 1), CancellationToken.None);
        var bWaits = admission.AdmitAsync(Chat("b"), CancellationToken.None);

        b.Lease!.Dispose();

        Assert.True((await bWaits.WaitAsync(s_realTimeLimit)).IsAdmitted);
        Assert.False(aWaits.IsCompleted);
        a.Lease!.Dispose();
        Assert.True((await aWaits.WaitAsync(s_realTimeLimit)).IsAdmitted);
    }

    [Fact]
    public async Task AKeyHeldAtItsLimitThatFillsTheQueueDoesNotKeepAnotherKeyFromAFreeSlot()
    {
        using var admission = Create(queueLimit: 3, slots: 2);
        var a = await admission.AdmitAsync(Chat("a", limit: 1), CancellationToken.None);
        var aWaiting = Enumerable.Range(0, 3).Select(_ => admission.AdmitAsync(Chat("a", limit: 1), CancellationToken.None)).ToList();
        Assert.Equal(3, admission.Queued);

        // One slot is free and the queue is full of "a", which cannot take it: "b" takes it at once.
        var b = await admission.AdmitAsync(Chat("b"), CancellationToken.None).WaitAsync(s_realTimeLimit);

        Assert.True(a.IsAdmitted && b.IsAdmitted);
        Assert.All(aWaiting, w => Assert.False(w.IsCompleted));
    }

    [Fact]
    public async Task AKeyThatFillsTheQueueGivesItsNewestPlaceToAKeyWithNone()
    {
        using var admission = Create(queueLimit: 3, slots: 1);
        var holder = await admission.AdmitAsync(Chat("a"), CancellationToken.None);
        var aWaiting = Enumerable.Range(0, 3).Select(_ => admission.AdmitAsync(Chat("a"), CancellationToken.None)).ToList();

        var b = admission.AdmitAsync(Chat("b"), CancellationToken.None);

        Assert.Equal(AdmissionOutcome.QueueShare, (await aWaiting[2].WaitAsync(s_realTimeLimit)).Outcome);
        Assert.False(b.IsCompleted);
        Assert.Equal(3, admission.Queued);
        // "b" holds one place of three, "a" two: another "b" would leave "a" with fewer than it, so it is refused.
        var c = admission.AdmitAsync(Chat("c"), CancellationToken.None);
        Assert.Equal(AdmissionOutcome.QueueShare, (await aWaiting[1].WaitAsync(s_realTimeLimit)).Outcome);
        Assert.Equal(AdmissionOutcome.QueueFull, (await admission.AdmitAsync(Chat("b"), CancellationToken.None)).Outcome);

        // Served in turn: "a", then "b", then "c".
        holder.Lease!.Dispose();
        var next = await aWaiting[0].WaitAsync(s_realTimeLimit);
        next.Lease!.Dispose();
        (await b.WaitAsync(s_realTimeLimit)).Lease!.Dispose();
        Assert.True((await c.WaitAsync(s_realTimeLimit)).IsAdmitted);
    }

    [Fact]
    public async Task NoRequestWaitsLongerThanTheQueuesLongestWaitWhateverItsDeadline()
    {
        using var admission = Create(queueLimit: 4, slots: 1, maxQueueWait: TimeSpan.FromSeconds(5));
        _ = await admission.AdmitAsync(Chat(), CancellationToken.None);
        var waiting = admission.AdmitAsync(Chat(), CancellationToken.None);

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(AdmissionOutcome.QueueTimeout, (await waiting.WaitAsync(s_realTimeLimit)).Outcome);
    }

    [Fact]
    public async Task TheWaitersOfARevokedKeyAreSentAwayAndOthersKeepTheirPlaces()
    {
        using var admission = Create(queueLimit: 4, slots: 1);
        var holder = await admission.AdmitAsync(Chat("a"), CancellationToken.None);
        var revoked = new[] { admission.AdmitAsync(Chat("a"), CancellationToken.None), admission.AdmitAsync(Chat("a"), CancellationToken.None) };
        var kept = admission.AdmitAsync(Chat("b"), CancellationToken.None);

        admission.Revoke(new HashSet<string> { "a" });

        foreach (var waiter in revoked)
        {
            Assert.Equal(AdmissionOutcome.KeyRevoked, (await waiter.WaitAsync(s_realTimeLimit)).Outcome);
        }

        Assert.Equal(1, admission.Queued);
        holder.Lease!.Dispose();
        Assert.True((await kept.WaitAsync(s_realTimeLimit)).IsAdmitted);
    }

    [Fact]
    public async Task SlotsLearnedLaterLetWaitingRequestsIn()
    {
        var backend = Backend("llm");
        using var admission = Create(queueLimit: 4, backends: [backend]);
        _ = await admission.AdmitAsync(Chat(), CancellationToken.None);
        var waiting = admission.AdmitAsync(Chat(), CancellationToken.None);

        backend.SetSlots(2);

        Assert.True((await waiting.WaitAsync(s_realTimeLimit)).IsAdmitted);
    }

    [Fact]
    public async Task EachRequestGoesToTheLeastLoadedBackend()
    {
        ModelBackend[] backends = [Backend("one", slots: 2), Backend("two", slots: 2)];
        using var admission = Create(queueLimit: 0, backends: backends);

        var leases = new List<AdmissionLease>();
        for (var i = 0; i < 4; i++)
        {
            leases.Add((await admission.AdmitAsync(Chat(), CancellationToken.None)).Lease!);
        }

        Assert.Equal(2, leases.Count(l => l.Backend.Name == "one"));
        Assert.Equal(2, leases.Count(l => l.Backend.Name == "two"));
        Assert.Equal(AdmissionOutcome.QueueFull, (await admission.AdmitAsync(Chat(), CancellationToken.None)).Outcome);
    }

    public void Dispose()
    {
        _lifetime.Dispose();
        _services.Dispose();
    }

    private static AdmissionRequest Chat(string partition = "", int? limit = null) => new(Operations.Chat, partition, s_wait, limit);

    private static ModelBackend Backend(string name, int slots = 0) =>
        BackendResilience.Create(name, Operations.Chat, new BackendOptions { Name = name, Endpoint = new Uri("http://127.0.0.1:1"), Model = "tiny" },
            new ResilienceOptions { MaxConcurrentRequests = slots });

    private AdmissionControl Create(int queueLimit, int slots = 0, ModelBackend[]? backends = null, TimeSpan? maxQueueWait = null) =>
        new(new BackendPool(backends ?? [Backend("llm", slots)]),
            Options.Create(new ResilienceOptions { QueueLimit = queueLimit, MaxQueueWait = maxQueueWait ?? new ResilienceOptions().MaxQueueWait }), _lifetime,
            _services.GetRequiredService<IMeterFactory>(), _time);
}
