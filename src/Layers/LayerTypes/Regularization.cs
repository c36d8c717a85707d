namespace Nabla.Layers;

/// <summary>
/// Inverted dropout (keras.layers.Dropout): while training, each element is zeroed with probability
/// <see cref="Rate"/> and the rest scaled by 1/(1 − rate); at inference it is the identity.
/// </summary>
/// <remarks>Masks come from the Philox stream of the graph seed and the layer's seed, so they are the same on every device.</remarks>
public sealed class Dropout : Layer
{
    private readonly ulong? _seed;

    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is outside [0, 1).</exception>
    public Dropout(double rate, ulong? seed = null, string? name = null) : base(name)
    {
        if (!(rate >= 0 && rate < 1)) throw new ArgumentOutOfRangeException(nameof(rate), rate, $"Dropout '{Name}': rate must be in [0, 1)");
        Rate = rate;
        _seed = seed;
    }

    /// <summary>Fraction of inputs dropped while training.</summary>
    public double Rate { get; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) =>
        training && Rate > 0 ? inputs.Graph.Dropout(inputs, Rate, _seed) : inputs;
}

/// <summary>Adds zero-mean Gaussian noise while training (keras.layers.GaussianNoise); the identity at inference.</summary>
public sealed class GaussianNoise : Layer
{
    private readonly ulong? _seed;

    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stddev"/> is negative or NaN.</exception>
    public GaussianNoise(double stddev, ulong? seed = null, string? name = null) : base(name)
    {
        if (!(stddev >= 0)) throw new ArgumentOutOfRangeException(nameof(stddev), stddev, $"GaussianNoise '{Name}': stddev must be ≥ 0");
        Stddev = stddev;
        _seed = seed;
    }

    /// <summary>Standard deviation of the noise.</summary>
    public double Stddev { get; }

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) =>
        training && Stddev > 0 ? inputs + inputs.Graph.RandomNormalLike(inputs, 0, Stddev, _seed) : inputs;
}

/// <summary>
/// Identity that adds an activity penalty l1·Σ|x| + l2·Σx², divided by the batch size as Keras does,
/// to the training loss (keras.layers.ActivityRegularization). The penalty is a training-only loss:
/// it is not part of the loss Evaluate reports.
/// </summary>
public sealed class ActivityRegularization : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A factor is negative or NaN.</exception>
    public ActivityRegularization(double l1 = 0, double l2 = 0, string? name = null) : base(name)
    {
        if (!(l1 >= 0)) throw new ArgumentOutOfRangeException(nameof(l1), l1, $"ActivityRegularization '{Name}': l1 must be ≥ 0");
        if (!(l2 >= 0)) throw new ArgumentOutOfRangeException(nameof(l2), l2, $"ActivityRegularization '{Name}': l2 must be ≥ 0");
        L1 = l1;
        L2 = l2;
    }

    /// <summary>L1 factor.</summary>
    public double L1 { get; }

    /// <summary>L2 factor.</summary>
    public double L2 { get; }

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training)
    {
        if (!training || (L1 == 0 && L2 == 0)) return inputs;
        var g = inputs.Graph;
        using (g.NameScope("activity_regularizer"))
        {
            Output? penalty = null;
            if (L1 > 0) penalty = PerSampleSum(g.Abs(inputs)) * L1;
            if (L2 > 0)
            {
                var l2 = PerSampleSum(g.Square(inputs)) * L2;
                penalty = penalty is null ? l2 : penalty.Value + l2;
            }
            // Mean over the batch of per-sample sums = total / batch size (Keras base_layer's mean_activity_loss).
            AddLoss(g.ReduceMean(penalty!.Value));
        }
        return inputs;
    }

    private static Output PerSampleSum(Output x) =>
        x.Shape.Rank <= 1 ? x : x.Graph.ReduceSum(x, Enumerable.Range(1, x.Shape.Rank - 1).ToArray());
}
