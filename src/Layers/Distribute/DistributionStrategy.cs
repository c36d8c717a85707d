using Nabla.Distributed;
using Nabla.Layers;

namespace Nabla.Distribute;

/// <summary>
/// Synchronous data-parallel training, as tf.distribute: replicas hold mirrored copies of the variables,
/// each computes gradients on its share of the global batch, the gradients are all-reduced, and every
/// replica applies the same averaged update. Create models, <c>Compile</c> and <c>Fit</c> inside
/// <see cref="Scope"/>: <c>Compile</c> binds the model to the strategy.
/// </summary>
/// <remarks>
/// <para>The batch size given to <c>Fit</c> is the <b>global</b> batch: each batch is split row-wise among
/// the <see cref="NumReplicasInSync"/> replicas (replica r takes rows r, r + R, r + 2R, …), so with the
/// same data and seed the replicas together see exactly the batches one process would.</para>
/// <para>Losses are means over a batch. A replica's gradient of its local mean, weighted by its row count
/// n_r, summed over the replicas and divided by N = Σ n_r, is the gradient of the mean over the global
/// batch: ∇(1/N Σ_i ℓ_i) = Σ_r (n_r/N) ∇(1/n_r Σ_{i∈r} ℓ_i). That also holds for a last batch that does not
/// divide evenly, and for per-model terms (regularisers), which are equal on every replica. The
/// reported loss and metrics are combined the same way.</para>
/// <para>Gradients travel in buckets of about <see cref="BucketBytes"/> (whole gradients, last layer
/// first, as they become ready in the backward pass), one all-reduce per bucket.</para>
/// <para>State that a step changes other than through gradients (e.g. batch-norm moving averages) is
/// kept per replica; the model reports replica 0's.</para>
/// </remarks>
public abstract class DistributionStrategy : IDisposable
{
    [ThreadStatic] private static DistributionStrategy? t_current;

    /// <summary>The strategy whose <see cref="Scope"/> is open on this thread, if any.</summary>
    public static DistributionStrategy? Current => t_current;

    /// <summary>Replicas that train in lock step, over all workers.</summary>
    public abstract int NumReplicasInSync { get; }

    /// <summary>This process's index among the workers (0 in one process).</summary>
    public virtual int WorkerIndex => 0;

    /// <summary>Number of worker processes.</summary>
    public virtual int WorkerCount => 1;

    /// <summary>Whether this is the chief (worker 0), the one that writes checkpoints and logs.</summary>
    public bool IsChief => WorkerIndex == 0;

    /// <summary>Target size of one gradient all-reduce (default 4 MiB); a gradient larger than that travels alone.</summary>
    public long BucketBytes
    {
        get;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = 4 << 20;

    /// <summary>Counters since the last <see cref="DistributionStats.Reset"/>: steps, all-reduce calls, bytes and time.</summary>
    public DistributionStats Stats { get; } = new();

    /// <summary>Makes this the current strategy on this thread until the returned scope is disposed (tf's <c>with strategy.scope():</c>).</summary>
    public IDisposable Scope()
    {
        var previous = t_current;
        t_current = this;
        return new ScopeHandle(previous);
    }

    /// <summary>Readies the replicas for a Fit: mirrors (or broadcasts) the model's and optimizer's variables from replica 0.</summary>
    internal abstract void BeginFit(Model model, StepFunction step);

    /// <summary>One synchronous training step on a global batch; returns the global means of the step's fetches and the global row count.</summary>
    internal abstract (double[] Means, int Size) TrainStep(Model model, StepFunction step, Batch batch);

    /// <summary>The chief's value of <paramref name="seed"/> on every worker (a broadcast across processes; the value itself in one process).</summary>
    internal virtual int AgreeOnSeed(int seed) => seed;

    /// <summary>The share of each global batch that this process's array feed gathers by itself (index, count), or null when it needs whole batches.</summary>
    internal virtual (int Index, int Count)? FeedShard => null;

    /// <summary>Called when Fit fails on this worker; a multi-worker strategy ends the job so no other worker waits forever.</summary>
    internal virtual void OnFitFailure(Exception error, int epoch, int batch)
    {
    }

    /// <summary>Weights broadcast from the chief after it alone loaded them (a restore); single-process strategies do nothing.</summary>
    internal virtual void AfterLoad(Model model, IReadOnlyList<Variable> variables, Exception? chiefError)
    {
        if (chiefError is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(chiefError);
    }

    /// <summary>Releases the strategy's sessions or communicator.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>
    /// The replica's part of a step: one run on its rows of the global batch, in which its gradients, weighted by
    /// its share of the global batch's rows, are all-reduced in buckets through <paramref name="group"/> (the session's
    /// collective) and the update applies the global mean. The first bucket also carries the replicas' weighted batch
    /// means and row counts for the logs, so the replicas meet once per step.
    /// </summary>
    internal (double[] Means, int Size) ReplicaStep(Session session, CollectiveGroup group, BatchShard shard,
        StepFunction step, Batch batch, bool record)
    {
        _ = step.Replicated ?? throw new InvalidOperationException("the step was not built for a distribution strategy");
        if (batch.Size <= 0) throw new InvalidOperationException("a global batch with no rows");
        var local = shard.Take(batch);
        var (calls, bytes, time) = (group.Calls, group.Bytes, group.Time);
        // A replica without rows (a global batch smaller than the replica count) still runs: its weighted
        // gradients are sums over no rows, zeros, and it must take part in every all-reduce.
        var (means, total) = step.RunReplica(session, local.X, local.Y, local.Size, batch.Size);
        if (record)
        {
            Stats.Steps++;
            Stats.AllReduceCalls += group.Calls - calls;
            Stats.AllReduceBytes += group.Bytes - bytes;
            Stats.AllReduceTime += group.Time - time;
        }
        if (total != batch.Size)
            throw new InvalidOperationException($"worker {WorkerIndex}: the replicas' shares add up to {total} rows, not the global batch's {batch.Size}: every worker must read the same batches");
        return (means, (int)total);
    }

    /// <summary>The variables a replica holds a copy of: the model's weights and the optimizer's slots and counters.</summary>
    internal static List<Variable> MirroredVariables(Model model) =>
        model.Weights.Concat(model.Optimizer?.Variables ?? []).Distinct().ToList();

    private sealed class ScopeHandle(DistributionStrategy? previous) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            t_current = previous;
        }
    }
}

/// <summary>Counters of a strategy's training steps.</summary>
public sealed class DistributionStats
{
    /// <summary>Synchronous steps run.</summary>
    public long Steps { get; internal set; }

    /// <summary>Gradient all-reduce calls (buckets) made by this worker (replica 0's, in one process).</summary>
    public long AllReduceCalls { get; internal set; }

    /// <summary>
    /// Bytes all-reduced by this worker: each bucket's gradients, the step's logs (loss and metric means and the row
    /// count, in the first bucket), and, where the backend sums them in place in its arena (the CPU), the alignment
    /// padding between them (under 64 bytes per value).
    /// </summary>
    public long AllReduceBytes { get; internal set; }

    /// <summary>Time inside gradient all-reduces, waiting for other replicas included.</summary>
    public TimeSpan AllReduceTime { get; internal set; }

    /// <summary>Zeroes the counters.</summary>
    public void Reset()
    {
        Steps = AllReduceCalls = AllReduceBytes = 0;
        AllReduceTime = TimeSpan.Zero;
    }
}
