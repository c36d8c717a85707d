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
        var threads = new Thread[_devices.Length - 1];
        for (var r = 1; r < _devices.Length; r++)
        {
            var replica = r;
            threads[r - 1] = new Thread(() => Run(replica)) { IsBackground = true, Name = $"replica {replica}" };
            threads[r - 1].Start();
        }
        Run(0);
        foreach (var t in threads) t.Join();
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
                results[r] = ReplicaStep(replicas.Sessions[r], group.Member(r), replicas.Members[r], replicas.Shards[r], step, batch, record: r == 0);
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
        }

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
        }
    }
}
