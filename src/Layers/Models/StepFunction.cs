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

    /// <summary>For a distribution strategy: the gradients as fetches, and the update fed with the all-reduced ones.</summary>
    public SplitUpdate? Split { get; init; }

    /// <summary>Runs the forward and backward pass on one replica's rows: the batch means and the gradients (no update).</summary>
    public (double[] Means, Tensor[] Gradients) RunGradients(Session session, IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y)
    {
        var split = Split ?? throw new InvalidOperationException("this step has no gradient fetches");
        // Replicas run this on their own threads: feeds of their own, not the shared _feeds.
        var feeds = new Dictionary<Output, Tensor>();
        Feed(feeds, x, y);
        var values = session.Run([.. fetches, .. split.Gradients], feeds);
        var means = new double[fetches.Length];
        for (var i = 0; i < means.Length; i++) means[i] = values[i].ToDoubleArray()[0];
        return (means, values[fetches.Length..]);
    }

    /// <summary>Applies the given (all-reduced) gradients with the optimizer.</summary>
    public void RunApply(Session session, Tensor[] gradients)
    {
        var split = Split ?? throw new InvalidOperationException("this step has no gradient feeds");
        var feeds = new Dictionary<Output, Tensor>();
        for (var i = 0; i < gradients.Length; i++) feeds[split.GradientFeeds[i]] = gradients[i];
        session.Run([], feeds, split.Apply);
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
        var values = update is null ? session.Run(fetches, _feeds) : session.Run(fetches, _feeds, update);
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++) result[i] = values[i].ToDoubleArray()[0];
        return result;
    }
}

/// <summary>
/// A training step cut in two for data parallelism: <see cref="Gradients"/> (one per variable in
/// <see cref="Variables"/>) are fetched, combined across replicas, and fed back through
/// <see cref="GradientFeeds"/> to the optimizer's <see cref="Apply"/>.
/// </summary>
internal sealed record SplitUpdate(Output[] Gradients, Output[] GradientFeeds, Variable[] Variables, Operation Apply);

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
