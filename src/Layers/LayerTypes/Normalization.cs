namespace Nabla.Layers;

/// <summary>
/// Batch normalisation over the last (channel) axis (keras.layers.BatchNormalization, axis −1):
/// y = γ·(x − μ)/√(σ² + ε) + β. Training uses the batch statistics and moves the non-trainable
/// moving_mean/moving_variance towards them once per training step (m ← m·momentum + batch·(1 − momentum));
/// inference uses the moving statistics. One <see cref="Graph.FusedBatchNorm"/> node.
/// </summary>
/// <remarks>
/// <para>The moving variance is updated with the Bessel-corrected batch variance, as TF2 Keras's fused path
/// (the one it takes for 4-D inputs); normalisation uses the biased one.</para>
/// <para>A frozen layer (<see cref="Layer.Trainable"/> = false when the training step is built, on the layer or on a model
/// that contains it) runs in inference mode and leaves its moving statistics alone, as in TF2.</para>
/// <para>Weights, in Keras's order: gamma, beta (trainable), moving_mean, moving_variance (non-trainable).</para>
/// </remarks>
public sealed class BatchNormalization : Layer
{
    private Variable? _gamma, _beta, _movingMean, _movingVariance;

    /// <summary>Creates the layer.</summary>
    /// <param name="momentum">Moving-average momentum (Keras default 0.99).</param>
    /// <param name="epsilon">Added to the variance (Keras default 1e-3).</param>
    /// <param name="center">Whether to add the learned offset β.</param>
    /// <param name="scale">Whether to multiply by the learned scale γ.</param>
    /// <param name="inputShape">Input shape without batch, when this layer starts a <see cref="Sequential"/>.</param>
    /// <param name="name">Layer name.</param>
    /// <exception cref="ArgumentOutOfRangeException">momentum is outside [0, 1] or epsilon is negative or not finite.</exception>
    public BatchNormalization(double momentum = 0.99, double epsilon = 1e-3, bool center = true, bool scale = true, int[]? inputShape = null, string? name = null) : base(name)
    {
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"BatchNormalization '{Name}': momentum must be in [0, 1]");
        if (!(epsilon >= 0) || double.IsInfinity(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"BatchNormalization '{Name}': epsilon must be finite and ≥ 0");
        Momentum = momentum;
        Epsilon = epsilon;
        Center = center;
        Scale = scale;
        InputShape = inputShape;
    }

    /// <summary>Moving-average momentum.</summary>
    public double Momentum { get; }

    /// <summary>Variance epsilon.</summary>
    public double Epsilon { get; }

    /// <summary>Whether β is learned.</summary>
    public bool Center { get; }

    /// <summary>Whether γ is learned.</summary>
    public bool Scale { get; }

    /// <summary>The moving mean (after the first call).</summary>
    public Variable MovingMean => _movingMean ?? throw new InvalidOperationException($"BatchNormalization '{Name}' is not built yet");

    /// <summary>The moving variance (after the first call).</summary>
    public Variable MovingVariance => _movingVariance ?? throw new InvalidOperationException($"BatchNormalization '{Name}' is not built yet");

    /// <inheritdoc/>
    protected override void Build(Shape inputShape)
    {
        if (inputShape.Rank < 2 || inputShape[^1] < 0)
            throw new ShapeException($"BatchNormalization '{Name}': the input needs a batch axis and a known channel (last) dimension, got {inputShape}");
        var c = new Shape(inputShape[^1]);
        if (Scale) _gamma = AddWeight("gamma", c, Initializer.Ones);
        if (Center) _beta = AddWeight("beta", c, Initializer.Zeros);
        _movingMean = AddWeight("moving_mean", c, Initializer.Zeros, trainable: false);
        _movingVariance = AddWeight("moving_variance", c, Initializer.Ones, trainable: false);
    }

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training)
    {
        var g = inputs.Graph;
        // Frozen (itself, or inside a frozen model): inference mode, as TF2.
        var useBatch = training && !Trace.InFrozenLayer;
        var shape = MovingMean.Shape;
        Output gamma = _gamma?.Value ?? g.Cast(g.Constant(Tensor.Fill(shape, 1, DType.Float64)), inputs.DType);
        Output beta = _beta?.Value ?? g.Cast(g.Constant(Tensor.Fill(shape, 0, DType.Float64)), inputs.DType);
        var (y, mean, variance) = g.FusedBatchNorm(inputs, gamma, beta, MovingMean, MovingVariance, Epsilon, useBatch, "FusedBatchNorm");
        if (useBatch)
        {
            // Keras's assign_moving_average: m ← m − (m − batch)·(1 − momentum).
            var decay = g.Scalar(1 - Momentum, inputs.DType);
            AddUpdate(MovingMean.AssignSub((MovingMean.Value - mean) * decay, "update_moving_mean").Op);
            AddUpdate(MovingVariance.AssignSub((MovingVariance.Value - variance) * decay, "update_moving_variance").Op);
        }
        return y;
    }
}
