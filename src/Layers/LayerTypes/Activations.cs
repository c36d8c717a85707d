namespace Nabla.Layers;

/// <summary>Activation functions by Keras name, built from the engine's primitive ops.</summary>
public static class Activations
{
    private static readonly Dictionary<string, Func<Output, Output>> s_byName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["linear"] = x => x,
        ["relu"] = x => x.Graph.Relu(x),
        // Keras's default negative slope for the named activation is 0.2 (keras.activations.leaky_relu).
        ["leaky_relu"] = x => x.Graph.LeakyRelu(x, 0.2),
        ["elu"] = x => x.Graph.Elu(x),
        ["selu"] = x => x.Graph.Selu(x),
        ["sigmoid"] = x => x.Graph.Sigmoid(x),
        ["tanh"] = x => x.Graph.Tanh(x),
        ["softmax"] = x => x.Graph.Softmax(x),
        ["softplus"] = x => x.Graph.Softplus(x),
        ["softsign"] = x => x.Graph.Softsign(x),
        // keras.activations.gelu defaults to the exact erf form (approximate=False).
        ["gelu"] = x => x.Graph.Gelu(x),
        ["swish"] = x => x * x.Graph.Sigmoid(x),
        ["exponential"] = x => x.Graph.Exp(x),
    };

    /// <summary>The Keras names understood by <see cref="Get"/>.</summary>
    public static IReadOnlyCollection<string> Names => s_byName.Keys;

    /// <summary>The activation called <paramref name="name"/> (case-insensitive); null or "linear" is the identity.</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static Func<Output, Output> Get(string? name) =>
        name is null ? s_byName["linear"]
        : s_byName.TryGetValue(name, out var f) ? f
        : throw new ArgumentException($"unknown activation '{name}'; known: {string.Join(", ", s_byName.Keys)}", nameof(name));
}

/// <summary>Applies an activation function by name (keras.layers.Activation).</summary>
public sealed class Activation(string activation, string? name = null) : Layer(name)
{
    private readonly Func<Output, Output> _f = Activations.Get(activation);

    /// <summary>The activation's name.</summary>
    public string Function { get; } = activation;

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) => _f(inputs);
}

/// <summary>
/// Leaky rectifier x for x &gt; 0, α·x otherwise (keras.layers.LeakyReLU, default α = 0.3). Built from a comparison
/// and a select (<see cref="Graph.LeakyRelu"/>), so the element-wise fusion pass can fuse it; at x = 0 the gradient is α.
/// </summary>
public sealed class LeakyReLU : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is negative or NaN.</exception>
    public LeakyReLU(double alpha = 0.3, string? name = null) : base(name)
    {
        if (!(alpha >= 0)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"LeakyReLU '{Name}': alpha must be ≥ 0");
        Alpha = alpha;
    }

    /// <summary>Slope for negative inputs.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) => inputs.Graph.LeakyRelu(inputs, Alpha, "LeakyRelu");
}

/// <summary>
/// Keras's parametrised rectifier (keras.layers.ReLU): max_value for x ≥ max_value, x for threshold ≤ x &lt; max_value,
/// negative_slope·(x − threshold) otherwise. The defaults give max(x, 0) (the Relu op); other settings are a select
/// and a minimum, all primitive element-wise ops.
/// </summary>
public sealed class ReLU : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">maxValue or negativeSlope is negative or NaN, or threshold is NaN.</exception>
    public ReLU(double? maxValue = null, double negativeSlope = 0, double threshold = 0, string? name = null) : base(name)
    {
        if (maxValue is { } m && !(m >= 0)) throw new ArgumentOutOfRangeException(nameof(maxValue), maxValue, $"ReLU '{Name}': max_value must be ≥ 0");
        if (!(negativeSlope >= 0)) throw new ArgumentOutOfRangeException(nameof(negativeSlope), negativeSlope, $"ReLU '{Name}': negative_slope must be ≥ 0");
        if (double.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, $"ReLU '{Name}': threshold is NaN");
        MaxValue = maxValue;
        NegativeSlope = negativeSlope;
        Threshold = threshold;
    }

    /// <summary>Upper saturation (null: none).</summary>
    public double? MaxValue { get; }

    /// <summary>Slope below the threshold.</summary>
    public double NegativeSlope { get; }

    /// <summary>Where the linear part starts.</summary>
    public double Threshold { get; }

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training)
    {
        var g = inputs.Graph;
        var dt = inputs.DType;
        var y = NegativeSlope == 0 && Threshold == 0 ? g.Relu(inputs)
            : g.Select(g.GreaterEqual(inputs, g.Scalar(Threshold, dt)), inputs,
                NegativeSlope == 0 ? g.ZerosLike(inputs) : (inputs - g.Scalar(Threshold, dt)) * g.Scalar(NegativeSlope, dt));
        return MaxValue is { } m ? g.Minimum(y, g.Scalar(m, dt)) : y;
    }
}

/// <summary>Exponential linear unit x for x &gt; 0, α·(eˣ − 1) otherwise (keras.layers.ELU, default α = 1); a select of primitive ops.</summary>
public sealed class ELU(double alpha = 1.0, string? name = null) : Layer(name)
{
    /// <summary>Scale of the negative part.</summary>
    public double Alpha { get; } = alpha;

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) => inputs.Graph.Elu(inputs, Alpha, "Elu");
}

/// <summary>Softmax over one axis (keras.layers.Softmax, default the last); other axes are moved last and back by transposes.</summary>
public sealed class Softmax(int axis = -1, string? name = null) : Layer(name)
{
    /// <summary>The normalised axis (negative counts from the end).</summary>
    public int Axis { get; } = axis;

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training)
    {
        var g = inputs.Graph;
        var rank = inputs.Shape.Rank;
        if (Axis < -rank || Axis >= rank) throw new ShapeException($"Softmax '{Name}': axis {Axis} is out of range for input {inputs.Shape}");
        var a = Axis < 0 ? Axis + rank : Axis;
        if (a == rank - 1) return g.Softmax(inputs);
        var perm = Enumerable.Range(0, rank).ToArray();
        (perm[a], perm[rank - 1]) = (perm[rank - 1], perm[a]);
        // A swap is its own inverse.
        return g.Transpose(g.Softmax(g.Transpose(inputs, perm)), perm);
    }
}
