using System.Runtime.InteropServices;
using Nabla.Distributed;
using Nabla.Layers;

namespace Nabla.Distribute;

/// <summary>
/// Data parallelism over processes, usually on several hosts (tf.distribute.MultiWorkerMirroredStrategy):
/// one replica per process, started with <c>mpirun -np N program …</c>; rank and size come from MPI.
/// </summary>
/// <remarks>
/// <para>At the start of each Fit the chief's (rank 0's) variables are broadcast, so every worker starts
/// from the same weights whatever its seed. Each worker takes its rows of every global batch (automatic
/// sharding: rows rank, rank + size, …; every worker reads the same data in the same shuffled order,
/// which needs the same seed on every worker, as the graph seed is by default). Gradients are
/// all-reduced in buckets and averaged over the global batch. <c>Fit</c>'s per-epoch shuffling of arrays uses
/// the chief's seed on every worker; a shuffled <c>Dataset</c> needs an explicit seed, the same on every worker.</para>
/// <para>Only the chief writes: <c>SaveWeights</c> (and so <c>ModelCheckpoint</c>) is skipped on other
/// workers, and the progress bar and file loggers run on the chief only. <c>LoadWeights</c> is a
/// collective: the chief reads the file and broadcasts the values.</para>
/// <para>Failures: if Fit throws on any worker, that worker prints the error with its rank to stderr and
/// ends the job with MPI_Abort, so mpirun kills every worker and exits non-zero; a worker that dies is
/// detected by mpirun, which does the same. No worker waits forever.</para>
/// </remarks>
public sealed class MultiWorkerMirroredStrategy : DistributionStrategy
{
    private readonly ICollective _collective;
    private readonly bool _ownsCollective;
    private readonly HashSet<Model> _models = []; // whose sessions this strategy joined to its group
    private readonly CollectiveGroup _group;
    private readonly BatchShard _shard;

    /// <summary>A strategy over the processes of the current MPI job (MPI_COMM_WORLD); initialises MPI.</summary>
    /// <exception cref="MpiLibraryNotFoundException">No MPI library is installed: the message says how to install one.</exception>
    public MultiWorkerMirroredStrategy() : this(MpiCollective.World(), ownsCollective: true)
    {
    }

    /// <summary>A strategy over any collective group (an <see cref="InProcessGroup"/> member in tests, or MPI).</summary>
    public MultiWorkerMirroredStrategy(ICollective collective) : this(collective, ownsCollective: false)
    {
    }

    private MultiWorkerMirroredStrategy(ICollective collective, bool ownsCollective) =>
        (_collective, _ownsCollective, _group, _shard) = (collective, ownsCollective, new CollectiveGroup(collective), new BatchShard(collective.Rank, collective.Size));

    /// <summary>The group the workers communicate through.</summary>
    public ICollective Collective => _collective;

    /// <summary>Whether a failing worker ends the whole MPI job (MPI_Abort), the default; when false the error is only rethrown.</summary>
    public bool AbortJobOnFailure { get; set; } = true;

    /// <inheritdoc/>
    public override int NumReplicasInSync => _collective.Size;

    /// <inheritdoc/>
    public override int WorkerIndex => _collective.Rank;

    /// <inheritdoc/>
    public override int WorkerCount => _collective.Size;

    internal override void BeginFit(Model model, StepFunction step)
    {
        _models.Add(model);
        model.Session.State.Collective = _group;
        BroadcastVariables(model.Session, MirroredVariables(model));
    }

    internal override (double[] Means, int Size) TrainStep(Model model, StepFunction step, Batch batch) =>
        ReplicaStep(model.Session, _group, _shard, step, batch, record: true);

    /// <inheritdoc/>
    /// <remarks>Each worker holds the whole arrays (the same data on every worker) and gathers only its rows of each batch.</remarks>
    internal override (int Index, int Count)? FeedShard => _collective.Size > 1 ? (_collective.Rank, _collective.Size) : null;

    internal override int AgreeOnSeed(int seed)
    {
        var bytes = BitConverter.GetBytes(seed);
        _collective.Broadcast(bytes.AsSpan(), 0);
        return BitConverter.ToInt32(bytes);
    }

    internal override void OnFitFailure(Exception error, int epoch, int batch)
    {
        Console.Error.WriteLine($"MultiWorkerMirroredStrategy: worker (rank) {WorkerIndex} of {WorkerCount} failed in epoch {epoch + 1}, batch {batch}: {error.GetType().Name}: {error.Message}");
        Console.Error.Flush();
        if (AbortJobOnFailure && _collective is MpiCollective mpi) mpi.Abort(1);
    }

    internal override void AfterLoad(Model model, IReadOnlyList<Variable> variables, Exception? chiefError)
    {
        // The chief says whether its load worked before anyone waits for values, so a bad file fails every worker alike.
        var status = new byte[] { (byte)(chiefError is null ? 1 : 0) };
        _collective.Broadcast(status.AsSpan(), 0);
        if (status[0] == 0)
        {
            if (chiefError is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(chiefError);
            throw new CheckpointException($"worker {WorkerIndex}: the chief (rank 0) failed to load the weights; see its error");
        }
        BroadcastVariables(model.Session, variables);
    }

    /// <summary>Overwrites every worker's <paramref name="variables"/> with the chief's values.</summary>
    private void BroadcastVariables(Session session, IReadOnlyList<Variable> variables)
    {
        foreach (var v in variables)
        {
            var value = session.ReadVariable(v);
            var data = (Array)value.Data.Clone();
            var bytes = AsBytes(data);
            _collective.Broadcast(bytes, 0);
            if (WorkerIndex != 0) session.AssignVariable(v, new Tensor(data, value.Shape, value.DType));
        }
    }

    private static Span<byte> AsBytes(Array data) => data switch
    {
        float[] f => MemoryMarshal.AsBytes(f.AsSpan()),
        double[] d => MemoryMarshal.AsBytes(d.AsSpan()),
        int[] i => MemoryMarshal.AsBytes(i.AsSpan()),
        long[] l => MemoryMarshal.AsBytes(l.AsSpan()),
        bool[] b => MemoryMarshal.AsBytes(b.AsSpan()),
        _ => throw new NotSupportedException($"cannot broadcast a {data.GetType().Name} variable"),
    };

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        // The models' sessions outlive the strategy: each is a group of one again.
        foreach (var model in _models) model.Session.State.Collective = Kernels.IAllReduceGroup.Alone;
        if (_ownsCollective) _collective.Dispose();
        base.Dispose(disposing);
    }
}
