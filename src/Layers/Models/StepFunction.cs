namespace Nabla.Layers;

/// <summary>
/// One compiled step of a model: the placeholders it feeds, the scalars it fetches (total loss first,
/// then metrics, each a batch mean) and, for training, the update op. Each run is one Session.Run.
/// </summary>
internal sealed class StepFunction(Output[] inputs, Output[] targets, Output[] fetches, string[] names, Operation? update)
{
    private readonly Dictionary<Output, Tensor> _feeds = [];

    public Output[] Inputs { get; } = inputs;
    public Output[] Targets { get; } = targets;
    public string[] Names { get; } = names;

    /// <summary>For a distribution strategy: the placeholders of the row counts the replica's step is fed with.</summary>
    public ReplicatedUpdate? Replicated { get; init; }

    /// <summary>
    /// One replica's whole step on its rows: forward, backward weighted by <paramref name="rows"/> / <paramref name="globalRows"/>,
    /// the in-graph all-reduce of the gradients and of the step's logs, and the update. Returns the global batch's means
    /// (in <see cref="Names"/> order) and its row count as the replicas reported it.
    /// </summary>
    public (double[] Means, long Rows) RunReplica(Session session, IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y, int rows, int globalRows)
    {
        var replicated = Replicated ?? throw new InvalidOperationException("the step was not built for a distribution strategy");
        // Replicas run this on their own threads: feeds of their own, not the shared _feeds.
        var feeds = new Dictionary<Output, Tensor>();
        Feed(feeds, x, y);
        // n_r / N rounded once (exact for the power-of-two shares of an even split).
        var weight = (double)rows / globalRows;
        feeds[replicated.Weight] = replicated.Weight.DType == DType.Float64 ? Tensor.Scalar(weight) : Tensor.Scalar((float)weight);
        feeds[replicated.Rows] = Tensor.Scalar((float)rows);
        var logs = session.Run([replicated.Logs], feeds, update!)[0].ToDoubleArray();
        // Row counts are float32 sums of integers: exact below 2^24 rows per global batch.
        return (logs[..^1], (long)Math.Round(logs[^1]));
    }

    private void Feed(Dictionary<Output, Tensor> feeds, IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y)
    {
        feeds.Clear();
        for (var i = 0; i < Inputs.Length; i++) feeds[Inputs[i]] = x[i];
        for (var i = 0; i < Targets.Length; i++) feeds[Targets[i]] = y[i];
    }

    /// <summary>Runs one batch and returns the fetched batch means, in <see cref="Names"/> order.</summary>
    public double[] Run(Session session, IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y)
    {
        Feed(_feeds, x, y);
        return Means(update is null ? session.Run(fetches, _feeds) : session.Run(fetches, _feeds, update));
    }

    private static double[] Means(Tensor[] values)
    {
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++) result[i] = values[i].ToDoubleArray()[0];
        return result;
    }
}

/// <summary>
/// The data-parallel form of a training step: the backward pass starts from the replica's weight n_r / N (<see cref="Weight"/>,
/// its rows over the global batch's) instead of 1, so its gradients are its share of the global batch's mean gradient; they
/// are summed over the replicas by one <c>AllReduce</c> op per bucket of <see cref="Distribute.GradientBuckets"/> and the
/// update applies the sums, all in the one run of the step. The first bucket also sums <see cref="Logs"/>: the replicas'
/// weighted loss and metric means, then their row counts (<see cref="Rows"/>, fed as n_r).
/// </summary>
internal sealed record ReplicatedUpdate(Output Weight, Output Rows, Output Logs);

/// <summary>Batch-size-weighted running means of a step's fetched values (Keras's Mean metric state).</summary>
internal sealed class RunningMeans(string[] names)
{
    private readonly double[] _sums = new double[names.Length];
    private long _count;

    public void Add(double[] values, int batchSize)
    {
        for (var i = 0; i < values.Length; i++) _sums[i] += values[i] * batchSize;
        _count += batchSize;
    }

    public Dictionary<string, double> Logs(string prefix = "")
    {
        var logs = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++) logs[prefix + names[i]] = _count == 0 ? double.NaN : _sums[i] / _count;
        return logs;
    }
}
