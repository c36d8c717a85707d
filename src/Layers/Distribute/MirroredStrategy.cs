using Nabla.Distributed;
using Nabla.Layers;

namespace Nabla.Distribute;

/// <summary>
/// Data parallelism over several devices of one process (tf.distribute.MirroredStrategy). Each replica
/// is a session on its device holding its own copy of every variable; replica 0 is the model's own
/// session. A step runs the replicas on one thread each, all-reduces their gradients through an
/// <see cref="InProcessGroup"/>, and each replica applies the same averaged update to its copy, so the
/// copies stay equal.
/// </summary>
/// <remarks>
/// Today the replica devices are CPU devices (each replica's kernels share the machine's cores); GPU
/// replicas need the CUDA backend and an NCCL collective behind the same interface. If one replica
/// throws, the group is aborted and the step fails on every replica with that error.
/// </remarks>
public sealed class MirroredStrategy : DistributionStrategy
{
    private readonly Device[] _devices;
    private readonly Dictionary<Model, Replicas> _replicas = [];

    /// <summary>A strategy with <paramref name="replicas"/> CPU replicas.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="replicas"/> is below 1.</exception>
    public MirroredStrategy(int replicas = 2) : this(Enumerable.Repeat(Device.Cpu, ValidCount(replicas)).ToArray())
    {
    }

    /// <summary>A strategy with one replica per device (tf's <c>MirroredStrategy(devices=[…])</c>).</summary>
    /// <exception cref="ArgumentException">No device was given.</exception>
    public MirroredStrategy(IReadOnlyList<Device> devices)
    {
        if (devices.Count == 0) throw new ArgumentException("MirroredStrategy needs at least one device", nameof(devices));
        _devices = devices.ToArray();
    }

    /// <summary>How long a replica waits for the others at one all-reduce before the step fails (default 2 minutes).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <inheritdoc/>
    public override int NumReplicasInSync => _devices.Length;

    /// <summary>The replica devices.</summary>
    public IReadOnlyList<Device> Devices => _devices;

    internal override void BeginFit(Model model, StepFunction step)
    {
        if (!_replicas.TryGetValue(model, out var replicas) || replicas.Step != step)
        {
            replicas?.Dispose();
            replicas = new Replicas(model, step, _devices);
            _replicas[model] = replicas;
        }
        replicas.Join(new InProcessGroup(_devices.Length, Timeout));
        // Mirror: every replica starts from replica 0's values (weights may have been set or loaded since the last Fit).
        var variables = MirroredVariables(model);
        var values = variables.Select(model.Session.ReadVariable).ToArray();
        for (var r = 1; r < replicas.Sessions.Length; r++)
            for (var i = 0; i < variables.Count; i++) replicas.Sessions[r].AssignVariable(variables[i], values[i]);
    }

    internal override (double[] Means, int Size) TrainStep(Model model, StepFunction step, Batch batch)
    {
        var replicas = _replicas[model];
        var group = replicas.Group!;
        var results = new (double[] Means, int Size)[_devices.Length];
        Exception? first = null;
        replicas.Threads.RunAll(Run);
        if (first is not null)
        {
            // Later steps need a fresh group: this one is aborted.
            replicas.Join(new InProcessGroup(_devices.Length, Timeout));
            throw first is CollectiveException ? first : new InvalidOperationException($"MirroredStrategy: {first.Message}", first);
        }
        return results[0];

        void Run(int r)
        {
            try
            {
                // With a replica per core or more, each replica's thread is already a core's work: splitting its kernels
                // across the cores again only makes the replicas wait for each other (docs/results.md, session (j)).
                using var kernels = _devices.Length >= Environment.ProcessorCount ? CpuKernelThreads.OnThisThreadOnly() : null;
                results[r] = ReplicaStep(replicas.Sessions[r], replicas.Members[r], replicas.Shards[r], step, batch, record: r == 0);
            }
            catch (Exception e)
            {
                group.Abort(r, e);
                // Keep the cause (the first replica that failed), not the aborts it caused in the others.
                lock (results)
                    if (first is null || (first is CollectiveException && e is not CollectiveException)) first = e;
            }
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        foreach (var r in _replicas.Values) r.Dispose();
        _replicas.Clear();
        base.Dispose(disposing);
    }

    private static int ValidCount(int replicas)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        return replicas;
    }

    /// <summary>The per-model replica sessions (replica 0 is the model's own), their shards and their members of the group.</summary>
    private sealed class Replicas : IDisposable
    {
        public Replicas(Model model, StepFunction step, Device[] devices)
        {
            Step = step;
            Sessions = new Session[devices.Length];
            Sessions[0] = model.Session;
            for (var r = 1; r < devices.Length; r++) Sessions[r] = new Session(model.Session.Graph, devices[r], model.Session.Options);
            Shards = devices.Select((_, r) => new BatchShard(r, devices.Length)).ToArray();
            Threads = new ReplicaThreads(devices.Length);
        }

        /// <summary>The threads the replicas' steps run on.</summary>
        public ReplicaThreads Threads { get; }

        /// <summary>Makes <paramref name="group"/> the one every replica's session all-reduces through.</summary>
        public void Join(InProcessGroup group)
        {
            Group = group;
            Members = Sessions.Select((s, r) => new CollectiveGroup(group.Member(r))).ToArray();
            for (var r = 0; r < Sessions.Length; r++) Sessions[r].State.Collective = Members[r];
        }

        public BatchShard[] Shards { get; }

        public StepFunction Step { get; }

        public Session[] Sessions { get; }

        public CollectiveGroup[] Members { get; private set; } = [];

        public InProcessGroup? Group { get; private set; }

        public void Dispose()
        {
            // The model's own session outlives the strategy: it is a group of one again.
            Sessions[0].State.Collective = Kernels.IAllReduceGroup.Alone;
            for (var r = 1; r < Sessions.Length; r++) Sessions[r].Dispose();
            Threads.Dispose();
        }
    }

    /// <summary>
    /// One long-lived thread per replica after the first; replica 0 runs on the caller. A thread started for every step
    /// cost its creation, and the per-thread caches it warmed (ArrayPool's, which hold the GEMM's packing buffers) died
    /// with it, so every step allocated them again. W2 under 2 replicas on the 2-core machine, per 512-row step: 3.5–4.3 ms
    /// with a thread per step, 2.1–2.9 ms with these and each replica's kernels on its own thread (docs/results.md, session (j)).
    /// </summary>
    private sealed class ReplicaThreads : IDisposable
    {
        private readonly Thread[] _threads;
        private readonly SemaphoreSlim[] _go;
        private readonly CountdownEvent _done;
        private Action<int>? _work;
        private volatile bool _stopping;

        public ReplicaThreads(int replicas)
        {
            _threads = new Thread[replicas - 1];
            _go = new SemaphoreSlim[replicas - 1];
            _done = new CountdownEvent(0);
            for (var i = 0; i < _threads.Length; i++)
            {
                var replica = i + 1;
                _go[i] = new SemaphoreSlim(0);
                _threads[i] = new Thread(() => Loop(replica)) { IsBackground = true, Name = $"replica {replica}" };
                _threads[i].Start();
            }
        }

        /// <summary>Runs <paramref name="work"/>(r) for every replica r, each on its thread, and returns when all have returned; <paramref name="work"/> must not throw.</summary>
        public void RunAll(Action<int> work)
        {
            _work = work;
            _done.Reset(_threads.Length);
            foreach (var go in _go) go.Release();
            work(0);
            _done.Wait();
            _work = null;
        }

        private void Loop(int replica)
        {
            while (true)
            {
                _go[replica - 1].Wait();
                if (_stopping) return;
                _work!(replica);
                _done.Signal();
            }
        }

        public void Dispose()
        {
            _stopping = true;
            foreach (var go in _go) go.Release();
            foreach (var t in _threads) t.Join();
            foreach (var go in _go) go.Dispose();
            _done.Dispose();
        }
    }
}
