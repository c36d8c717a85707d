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

    /// <summary>Runs one batch and returns the fetched batch means, in <see cref="Names"/> order.</summary>
    public double[] Run(Session session, IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y)
    {
        _feeds.Clear();
        for (var i = 0; i < Inputs.Length; i++) _feeds[Inputs[i]] = x[i];
        for (var i = 0; i < Targets.Length; i++) _feeds[Targets[i]] = y[i];
        var values = update is null ? session.Run(fetches, _feeds) : session.Run(fetches, _feeds, update);
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++) result[i] = values[i].ToDoubleArray()[0];
        return result;
    }
}

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
