using System.Diagnostics.Metrics;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Observability;
using Microsoft.Extensions.Options;
using LlmApp.Gateway.Configuration;

namespace LlmApp.Gateway.Admission;

/// <summary>
/// Admits at most as many requests to each backend as it has slots, with one bounded queue in front of them all:
/// a backend's own queue is unbounded and invisible, so overload is answered here, with a fast 429, instead.
/// <list type="bullet">
/// <item>A request goes to a backend that serves its operation and has a free slot, as <see cref="ReplicaChooser"/>
/// picks it (by the conversation's prefix, round-robin or least-loaded; healthy ones while any is).</item>
/// <item>Waiting requests are kept per partition (an API key) and served round-robin between partitions, first
/// come first served within one, so that no caller can take every slot while others wait. A partition may also have a
/// limit of its own (the key's <c>maxConcurrent</c>): at it, its requests wait even while slots are free.</item>
/// <item>A free slot goes to whoever can take it at once; a waiter held back only by its own partition's limit does not
/// keep it from another partition's request.</item>
/// <item>The queue is bounded, and a partition holds at most its share of it: when it is full, a request of a partition
/// with fewer waiters takes the place of the newest waiter of the partition with the most.</item>
/// <item>A request waits no longer than its deadline or <c>Resilience:MaxQueueWait</c>; once the host is stopping,
/// nothing new is admitted. The waiters of a revoked API key are sent away (<see cref="Revoke"/>).</item>
/// <item>Each request's time to first token is predicted as it asks (its wait for a slot, from the running calls'
/// expected ends and the queue ahead, then its prompt at the backend's prefill rate: <see cref="BackendSpeed"/>). One
/// with an objective (<c>Slo:TimeToFirstToken</c>, its key's, its header's) that the prediction says it would miss is
/// refused at once, and one whose wait outlasts what its objective leaves for its prompt leaves the queue.</item>
/// <item>With <c>Slo:MinTokensPerSecond</c>, a backend takes no more streams than keep the measured decode rate over it.</item>
/// </list>
/// It publishes its own queue length and refusals. What it predicts, and the floor, are in <c>AdmissionControl.Forecast.cs</c>.
/// </summary>
public sealed partial class AdmissionControl : IDisposable
{
    private readonly Lock _gate = new();
    // The calls each backend runs: its slots held.
    private readonly Dictionary<ModelBackend, HashSet<AdmissionLease>> _running;
    private readonly Dictionary<string, LinkedList<Waiter>> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _partitionInFlight = new(StringComparer.Ordinal);

    // Partitions with waiters, in the order they are served next.
    private readonly LinkedList<string> _turns = new();
    private readonly BackendPool _pool;
    private readonly Dictionary<string, ModelBackend[]> _byOperation;
    private readonly ReplicaChooser _chooser;
    private readonly TimeSpan _affinityWait;
    private readonly int _queueLimit;
    private readonly TimeSpan _maxQueueWait;
    private readonly TimeProvider _time;
    private readonly CancellationToken _stopping;
    private readonly Counter<long> _rejections;
    private readonly double? _minTokensPerSecond;
    private static readonly TimeSpan MinRetryAfter = TimeSpan.FromMilliseconds(100);
    private int _queued;

    public AdmissionControl(BackendPool pool, IOptions<ResilienceOptions> options, IHostApplicationLifetime lifetime, IMeterFactory meterFactory,
        TimeProvider time, IOptions<BackendOptions>? backendOptions = null, IOptions<SloOptions>? slo = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(lifetime);
        ArgumentNullException.ThrowIfNull(meterFactory);
        _pool = pool;
        _queueLimit = options.Value.QueueLimit;
        _maxQueueWait = options.Value.MaxQueueWait;
        _time = time;
        _stopping = lifetime.ApplicationStopping;
        _running = pool.All.ToDictionary(b => b, _ => new HashSet<AdmissionLease>());
        _minTokensPerSecond = slo?.Value.MinTokensPerSecond;
        _byOperation = pool.All.GroupBy(b => b.Operation, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        _affinityWait = backendOptions?.Value.AffinityWait ?? TimeSpan.Zero;
        _chooser = new ReplicaChooser(backendOptions?.Value.Routing ?? BackendRouting.LeastLoaded, _affinityWait, time);
        foreach (var backend in pool.All)
        {
            backend.CapacityChanged += Dispatch;
        }

        var meter = meterFactory.Create(GatewayMetrics.MeterName);
        meter.CreateObservableGauge("llmapp.queue.length", () => Volatile.Read(ref _queued), "{request}", "Requests waiting for a backend slot.");
        meter.CreateObservableGauge("llmapp.backend.slots.busy", BusySlots, "{request}", "Requests running on each backend now, by llmapp.backend.");
        _rejections = meter.CreateCounter<long>("llmapp.requests.rejected", "{request}", "Requests refused by admission control, by reason.");
        BackendSpeedMetrics.Publish(meter, pool);
    }

    /// <summary>Whether requests for <paramref name="operation"/> are routed by their prefix: affine routing, and more than one backend to route to.</summary>
    public bool UsesAffinity(string operation) =>
        _chooser.Routing == BackendRouting.Affine && _byOperation.TryGetValue(operation, out var backends) && backends.Length > 1;

    /// <summary>Requests waiting for a slot now.</summary>
    public int Queued => Volatile.Read(ref _queued);

    public async Task<AdmissionResult> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_stopping.IsCancellationRequested)
        {
            return Refuse(request, AdmissionOutcome.ShuttingDown);
        }

        Waiter waiter;
        var maxWait = request.MaxWait < _maxQueueWait ? request.MaxWait : _maxQueueWait;
        var objectiveBound = false;
        lock (_gate)
        {
            if (request.Objective is not null && !request.Moving && !_byOperation.GetValueOrDefault(request.Operation, []).Any(b => b.IsHealthy))
            {
                return Refuse(request, AdmissionOutcome.NoBackend);
            }

            // Waiters that can take a slot have it by now (every release dispatches), so a slot still free is one none of
            // them can use: their keys are at their own limits, or they wait for their conversation's replica.
            if (FreeSlotFor(request, _time.GetTimestamp()) is { } backend)
            {
                var firstToken = FirstTokenTime(backend, request);
                // A free slot and a prediction over the objective: its prompt is too long for the backend's prefill rate,
                // unless that rate is out of date (nothing learned for a while): then it goes through, and is learned from.
                if (request.Objective is { } objective && firstToken > objective && !request.Moving && !backend.Speed.IsStale(RelearnAfter))
                {
                    return Refuse(request, AdmissionOutcome.TtftObjective, firstToken - objective);
                }

                return new(AdmissionOutcome.Admitted, Take(backend, request, firstToken));
            }

            // A call moving off a failed replica was admitted once already: the queue's limit is for new arrivals.
            if (_queued >= _queueLimit && !request.Moving && !TryMakeRoomFor(request))
            {
                return Refuse(request, AdmissionOutcome.QueueFull);
            }

            var predicted = Predict(request);
            if (request.Objective is { } budget && !request.Moving)
            {
                if (predicted.FirstToken > budget)
                {
                    return Refuse(request, AdmissionOutcome.TtftObjective, predicted.FirstToken - budget);
                }

                // It may wait only as long as leaves time for its prompt once it has a slot.
                var objectiveWait = budget - predicted.Prompt;
                if (objectiveWait < maxWait)
                {
                    maxWait = objectiveWait;
                    objectiveBound = true;
                }
            }

            if (maxWait <= TimeSpan.Zero)
            {
                return Refuse(request, objectiveBound ? AdmissionOutcome.TtftObjective : AdmissionOutcome.QueueTimeout);
            }

            waiter = Enqueue(request, predicted.FirstToken);
        }

        // Waiters held back only by their own partition's limit do not stop this one from taking a free slot.
        Dispatch();
        if (request.FollowUp && _affinityWait > TimeSpan.Zero)
        {
            // It may be waiting for its conversation's replica: once that wait is over, any replica with room will do.
            _ = DispatchAfterAsync(_affinityWait);
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping);
        try
        {
            return await waiter.Granted.Task.WaitAsync(maxWait, _time, wait.Token);
        }
        catch (TimeoutException)
        {
            return Withdraw(waiter, objectiveBound ? AdmissionOutcome.TtftObjective : AdmissionOutcome.QueueTimeout);
        }
        catch (OperationCanceledException)
        {
            return Withdraw(waiter, cancellationToken.IsCancellationRequested ? AdmissionOutcome.ClientLeft : AdmissionOutcome.ShuttingDown);
        }
    }

    private async Task DispatchAfterAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _time, _stopping);
            Dispatch();
        }
        catch (OperationCanceledException)
        {
            // Stopping: nothing more is admitted.
        }
    }

    public void Dispose()
    {
        foreach (var backend in _pool.All)
        {
            backend.CapacityChanged -= Dispatch;
        }
    }

    internal void Release(AdmissionLease lease)
    {
        lock (_gate)
        {
            var running = _running[lease.Backend];
            running.Remove(lease);
            lease.Backend.Speed.SetRunning(running.Count);
            if (--_partitionInFlight[lease.Partition] == 0)
            {
                _partitionInFlight.Remove(lease.Partition);
            }
        }

        Dispatch();
    }

    /// <summary>Lets waiting requests in while there are free slots for them, one partition's turn after another.</summary>
    private void Dispatch()
    {
        lock (_gate)
        {
            var turn = _turns.First;
            while (turn is not null)
            {
                var queue = _queues[turn.Value];
                var waiter = queue.First;
                ModelBackend? backend = null;
                while (waiter is not null && (backend = FreeSlotFor(waiter.Value.Request, waiter.Value.Since)) is null)
                {
                    waiter = waiter.Next;
                }

                if (waiter is null || backend is null)
                {
                    turn = turn.Next;
                    continue;
                }

                Dequeue(waiter);
                // Its prediction stands as made when it asked: its error is the prediction's.
                waiter.Value.Granted.TrySetResult(new(AdmissionOutcome.Admitted, Take(backend, waiter.Value.Request, waiter.Value.Predicted)));

                // This partition has had its turn: the next one goes first now (an emptied one has left the turns).
                if (turn.List is not null)
                {
                    _turns.Remove(turn);
                    _turns.AddLast(turn);
                }

                turn = _turns.First;
            }
        }
    }

    /// <summary>
    /// The backend <see cref="ReplicaChooser"/> picks for <paramref name="request"/> among those with a free slot; null
    /// if none has one, or the request's partition is at its own limit. The slot is <see cref="Take"/>n, or not, at once.
    /// </summary>
    private ModelBackend? FreeSlotFor(AdmissionRequest request, long since) =>
        _partitionInFlight.GetValueOrDefault(request.Partition) >= request.PartitionLimit || !_byOperation.TryGetValue(request.Operation, out var candidates)
            ? null
            : _chooser.Choose(candidates, request, since, Free);

    /// <summary>Gives <paramref name="request"/> a slot on <paramref name="backend"/>: its lease, counted against the backend and the partition until it is given back.</summary>
    private AdmissionLease Take(ModelBackend backend, AdmissionRequest request, TimeSpan predicted)
    {
        var lease = NewLease(backend, request, predicted);
        var running = _running[backend];
        running.Add(lease);
        backend.Speed.SetRunning(running.Count);
        _partitionInFlight[request.Partition] = _partitionInFlight.GetValueOrDefault(request.Partition) + 1;
        return lease;
    }

    private int Free(ModelBackend backend) => Capacity(backend) - _running[backend].Count;

    /// <summary>How many slots of <paramref name="backend"/> are held now.</summary>
    internal int Busy(ModelBackend backend)
    {
        lock (_gate)
        {
            return _running[backend].Count;
        }
    }

    private static KeyValuePair<string, object?> Backend(ModelBackend backend) => new("llmapp.backend", backend.Name);

    private IEnumerable<Measurement<int>> BusySlots()
    {
        lock (_gate)
        {
            return [.. _running.Select(b => new Measurement<int>(b.Value.Count, Backend(b.Key)))];
        }
    }

    /// <summary>
    /// Failover before the first byte: <paramref name="lease"/>'s backend failed the call. It is marked unhealthy
    /// until its next good probe (so that nothing new goes there), the slot is given up, and the call is admitted
    /// again, waiting its turn if need be, within <paramref name="maxWait"/>, on another healthy backend. Null, with
    /// no slot held, when there is no other healthy backend (one backend, or all down) or no slot came in time.
    /// </summary>
    internal async Task<AdmissionLease?> ReadmitAsync(AdmissionLease lease, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var failed = lease.Backend;
        failed.SetHealthy(false);
        lease.Dispose();
        if (!_byOperation[failed.Operation].Any(b => b != failed && b.IsHealthy))
        {
            return null;
        }

        return await AdmitMovingAsync(lease.Request, maxWait, cancellationToken);
    }

    private static readonly TimeSpan ResumePoll = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Admits again a call whose answer its backend cut after output began, to continue it: like
    /// <see cref="ReadmitAsync"/>, except that it waits, within <paramref name="maxWait"/>, for a replica to be healthy when
    /// none is (a lone backend restarting after a crash), as long as a request waits for a slot: no longer than
    /// <c>Resilience:MaxQueueWait</c>, a stopped backend must not hold a half-sent answer open. Null when none is in time,
    /// or the gateway is shutting down.
    /// </summary>
    internal async Task<AdmissionLease?> ResumeAsync(AdmissionLease lease, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var failed = lease.Backend;
        failed.SetHealthy(false);
        lease.Dispose();
        var start = _time.GetTimestamp();
        maxWait = maxWait < _maxQueueWait ? maxWait : _maxQueueWait;
        while (!_byOperation[failed.Operation].Any(b => b.IsHealthy))
        {
            if (_time.GetElapsedTime(start) >= maxWait)
            {
                return null;
            }

            // A backend comes back at its next good health probe; a cut is rare enough to look for it this way.
            await Task.Delay(ResumePoll, _time, cancellationToken);
        }

        return await AdmitMovingAsync(lease.Request, maxWait - _time.GetElapsedTime(start), cancellationToken);
    }

    /// <summary>Admits a call leaving a failed replica (not refused for a full queue), and keeps its conversation where it lands.</summary>
    private async Task<AdmissionLease?> AdmitMovingAsync(AdmissionRequest request, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var again = await AdmitAsync(request with { MaxWait = maxWait, Moving = true }, cancellationToken);
        if (again.Outcome == AdmissionOutcome.ClientLeft)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        if (again.Lease is { Request.Affinity: { } affinity } moved)
        {
            lock (_gate)
            {
                _chooser.Moved(affinity, moved.Backend);
            }
        }

        return again.Lease;
    }

    /// <summary>
    /// The queue is full: if <paramref name="request"/>'s partition holds fewer places than its share, the newest waiter
    /// of the partition holding the most gives its place up (refused with <see cref="AdmissionOutcome.QueueShare"/>).
    /// </summary>
    private bool TryMakeRoomFor(AdmissionRequest request)
    {
        var mine = _queues.TryGetValue(request.Partition, out var own) ? own.Count : 0;
        var most = _queues.Values.MaxBy(queue => queue.Count);
        // Two more than this one's, so that giving a place up leaves the longest at least one longer than this one.
        if (most is null || most.Count < mine + 2)
        {
            return false;
        }

        var evicted = most.Last!;
        Dequeue(evicted);
        evicted.Value.Granted.TrySetResult(Refuse(evicted.Value.Request, AdmissionOutcome.QueueShare));
        return true;
    }

    /// <summary>Sends the waiters of <paramref name="partitions"/> (API keys revoked since they queued) away with <see cref="AdmissionOutcome.KeyRevoked"/>.</summary>
    public void Revoke(IReadOnlySet<string> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        lock (_gate)
        {
            foreach (var partition in partitions)
            {
                while (_queues.TryGetValue(partition, out var queue) && queue.First is { } node)
                {
                    Dequeue(node);
                    node.Value.Granted.TrySetResult(Refuse(node.Value.Request, AdmissionOutcome.KeyRevoked));
                }
            }
        }
    }

    private Waiter Enqueue(AdmissionRequest request, TimeSpan predicted)
    {
        if (!_queues.TryGetValue(request.Partition, out var queue))
        {
            _queues[request.Partition] = queue = new LinkedList<Waiter>();
            _turns.AddLast(request.Partition);
        }

        var waiter = new Waiter(request, _time.GetTimestamp(), predicted);
        waiter.Node = queue.AddLast(waiter);
        _queued++;
        return waiter;
    }

    private void Dequeue(LinkedListNode<Waiter> node)
    {
        var queue = node.List!;
        queue.Remove(node);
        node.Value.Node = null;
        _queued--;
        if (queue.Count == 0)
        {
            _queues.Remove(node.Value.Request.Partition);
            _turns.Remove(node.Value.Request.Partition);
        }
    }

    /// <summary>
    /// Takes a waiter out of the queue; if it was answered meanwhile (a slot, or a refusal), that answer stands, but a
    /// slot is given back when its client left.
    /// </summary>
    private AdmissionResult Withdraw(Waiter waiter, AdmissionOutcome outcome)
    {
        lock (_gate)
        {
            if (waiter.Node is { } node)
            {
                Dequeue(node);
                // Try again when a request arriving then would be predicted to meet the objective.
                var retryAfter = outcome == AdmissionOutcome.TtftObjective && waiter.Request.Objective is { } objective
                    ? Predict(waiter.Request).FirstToken - objective
                    : (TimeSpan?)null;
                return Refuse(waiter.Request, outcome, retryAfter);
            }
        }

        var granted = waiter.Granted.Task.Result;
        if (outcome != AdmissionOutcome.ClientLeft)
        {
            return granted;
        }

        granted.Lease?.Dispose();
        return new(AdmissionOutcome.ClientLeft, null);
    }

    private AdmissionResult Refuse(AdmissionRequest request, AdmissionOutcome outcome, TimeSpan? retryAfter = null)
    {
        if (outcome != AdmissionOutcome.ClientLeft)
        {
            _rejections.Add(1, new KeyValuePair<string, object?>("llmapp.rejection.reason", outcome.ToString()),
                new KeyValuePair<string, object?>("gen_ai.operation.name", request.Operation));
        }

        var detail = outcome is AdmissionOutcome.QueueFull or AdmissionOutcome.QueueTimeout or AdmissionOutcome.QueueShare or AdmissionOutcome.TtftObjective
            ? FloorHeld(request.Operation)
            : null;
        // Retry-After from the prediction, to the millisecond (retry-after-ms), but not at once: the queue needs a moment to move.
        return new(outcome, null, retryAfter is { } after && after < MinRetryAfter ? MinRetryAfter : retryAfter, detail);
    }

    private sealed class Waiter(AdmissionRequest request, long since, TimeSpan predicted)
    {
        public AdmissionRequest Request { get; } = request;

        /// <summary>Its time to first token, as predicted when it began to wait.</summary>
        public TimeSpan Predicted { get; } = predicted;

        /// <summary>When it began to wait, as a <see cref="TimeProvider"/> timestamp.</summary>
        public long Since { get; } = since;

        public TaskCompletionSource<AdmissionResult> Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Where it waits; null once it is out of the queue.</summary>
        public LinkedListNode<Waiter>? Node { get; set; }
    }
}
