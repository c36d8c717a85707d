namespace Nabla.Layers;

/// <summary>
/// A fully connected layer: y = activation(x·W + b), with W of shape [in, units] (keras.layers.Dense).
/// Inputs of rank above 2 are multiplied along their last axis.
/// </summary>
public sealed class Dense : Layer
{
    private readonly Func<Output, Output> _activation;
    private Variable? _kernel, _bias;

    /// <summary>Creates the layer; weights are created on the first call.</summary>
    /// <param name="units">Output size.</param>
    /// <param name="activation">A Keras activation name (<see cref="Activations"/>); null is linear.</param>
    /// <param name="useBias">Whether to add a bias vector.</param>
    /// <param name="kernelInitializer">Default Glorot uniform, as Keras.</param>
    /// <param name="biasInitializer">Default zeros, as Keras.</param>
    /// <param name="inputShape">Input shape without batch, when this layer starts a <see cref="Sequential"/>.</param>
    /// <param name="name">Layer name.</param>
    public Dense(int units, string? activation = null, bool useBias = true, Initializer? kernelInitializer = null,
        Initializer? biasInitializer = null, int[]? inputShape = null, string? name = null) : base(name)
    {
        if (units <= 0) throw new ArgumentOutOfRangeException(nameof(units), units, $"Dense '{Name}': units must be positive");
        Units = units;
        ActivationName = activation ?? "linear";
        _activation = Activations.Get(activation);
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? Initializer.GlorotUniform();
        BiasInitializer = biasInitializer ?? Initializer.Zeros;
        InputShape = inputShape;
    }

    /// <summary>Output size.</summary>
    public int Units { get; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    /// <summary>The activation's Keras name.</summary>
    public string ActivationName { get; }

    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }

    /// <summary>Initializer of the kernel.</summary>
    public Initializer KernelInitializer { get; }

    /// <summary>Initializer of the bias.</summary>
    public Initializer BiasInitializer { get; }

    /// <summary>The [in, units] weight matrix (after the first call).</summary>
    public Variable Kernel => _kernel ?? throw new InvalidOperationException($"Dense '{Name}' is not built yet");

    /// <summary>The [units] bias (after the first call; null without bias).</summary>
    public Variable? Bias => _bias;

    /// <inheritdoc/>
    protected override void Build(Shape inputShape)
    {
        if (inputShape.Rank < 2 || inputShape[^1] < 0)
            throw new ShapeException($"Dense '{Name}': the input needs a batch axis and a known last dimension, got {inputShape}");
        _kernel = AddWeight("kernel", new Shape(inputShape[^1], Units), KernelInitializer);
        if (UseBias) _bias = AddWeight("bias", new Shape(Units), BiasInitializer);
    }

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training)
    {
        var g = inputs.Graph;
        var s = inputs.Shape;
        if (s[^1] != Kernel.Shape[0])
            throw new ShapeException($"Dense '{Name}': input {s} does not match the kernel {Kernel.Shape}");
        Output y;
        if (s.Rank == 2) y = g.MatMul(inputs, Kernel, name: "MatMul");
        else
        {
            // Keras's tensordot over the last axis: fold the leading axes into rows, multiply, unfold.
            for (var i = 1; i < s.Rank - 1; i++)
                if (s[i] < 0) throw new ShapeException($"Dense '{Name}': a rank-{s.Rank} input needs known inner dimensions, got {s}");
            var flat = g.Reshape(inputs, [-1, s[^1]]);
            y = g.Reshape(g.MatMul(flat, Kernel, name: "MatMul"), [-1, .. s.Skip(1).Take(s.Rank - 2), Units]);
        }
        if (_bias is not null) y = g.Add(y, _bias.Value, "BiasAdd");
        return _activation(y);
    }
}
