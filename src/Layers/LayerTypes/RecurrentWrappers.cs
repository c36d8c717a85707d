namespace Nabla.Layers;

/// <summary>
/// Runs a recurrent layer in both directions and merges the outputs (keras.layers.Bidirectional): the backward copy has
/// the same configuration with go_backwards flipped, and when sequences are returned its output is reversed back so that
/// step t of both directions lines up. Merge modes: "concat" (last axis), "sum", "mul", "ave".
/// </summary>
/// <remarks>
/// Inputs: the sequence, optionally followed by the initial states of the forward layer and then of the backward one.
/// With return_state the outputs are the merged output, then the forward states, then the backward states (Keras's order).
/// </remarks>
public sealed class Bidirectional : Layer
{
    private static readonly string[] s_modes = ["concat", "sum", "mul", "ave"];

    /// <summary>Creates the wrapper around <paramref name="layer"/> (which becomes the forward layer).</summary>
    /// <exception cref="ArgumentException">Unknown merge mode.</exception>
    public Bidirectional(RecurrentLayer layer, string mergeMode = "concat", int[]? inputShape = null, string? name = null) : base(name)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (!s_modes.Contains(mergeMode))
            throw new ArgumentException($"Bidirectional '{Name}': merge mode must be one of {string.Join(", ", s_modes)}, got '{mergeMode}'", nameof(mergeMode));
        Forward = layer;
        Backward = layer.CloneReversed(Keras.UniqueLayerName("backward_" + layer.Name));
        MergeMode = mergeMode;
        InputShape = inputShape ?? layer.InputShape;
    }

    /// <summary>The forward layer (the one given).</summary>
    public RecurrentLayer Forward { get; }

    /// <summary>The backward copy.</summary>
    public RecurrentLayer Backward { get; }

    /// <summary>How the two outputs are combined.</summary>
    public string MergeMode { get; }

    /// <inheritdoc/>
    protected internal override Output? ComputeMask(Output input, Output? mask) => Forward.ReturnSequences ? mask : null;

    /// <inheritdoc/>
    protected override Output[] Call(Output[] inputs, bool training)
    {
        var x = inputs[0];
        var g = x.Graph;
        var n = inputs.Length - 1;
        if (n % 2 != 0) throw new ArgumentException($"Bidirectional '{Name}': initial states must come in equal halves (forward, backward), got {n}", nameof(inputs));
        var fw = Forward.Apply([x, .. inputs[1..(1 + n / 2)]], training);
        var bw = Backward.Apply([x, .. inputs[(1 + n / 2)..]], training);
        Output yf = fw[0], yb = bw[0];
        if (Forward.ReturnSequences)
        {
            var steps = yb.Shape[1];
            if (steps < 0) throw new ShapeException($"Bidirectional '{Name}': returning sequences needs a known number of steps, got {yb.Shape}");
            yb = g.Gather(yb, g.Constant(Tensor.FromArray(Enumerable.Range(0, steps).Reverse().ToArray(), steps)), 1, "reverse_time");
        }
        var merged = MergeMode switch
        {
            "concat" => g.Concat([yf, yb], yf.Shape.Rank - 1),
            "sum" => yf + yb,
            "mul" => yf * yb,
            _ => (yf + yb) * g.Scalar(0.5, yf.DType),
        };
        if (inputs.Length > 1 || Forward.ReturnState) SetMask(merged, Forward.ReturnSequences ? InputMask(0) : null);
        return Forward.ReturnState ? [merged, .. fw[1..], .. bw[1..]] : [merged];
    }
}

/// <summary>
/// Applies a layer to every time step of a [batch, time, ...] input (keras.layers.TimeDistributed): the batch and time
/// axes are folded into one, the layer runs once, and the result is unfolded. The mask passes through.
/// </summary>
public sealed class TimeDistributed : Layer
{
    /// <summary>Creates the wrapper.</summary>
    public TimeDistributed(Layer layer, int[]? inputShape = null, string? name = null) : base(name)
    {
        ArgumentNullException.ThrowIfNull(layer);
        Inner = layer;
        InputShape = inputShape;
    }

    /// <summary>The wrapped layer.</summary>
    public Layer Inner { get; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training)
    {
        var s = inputs.Shape;
        if (s.Rank < 3 || s.Skip(1).Any(d => d < 0))
            throw new ShapeException($"TimeDistributed '{Name}': the input must be [batch, time, ...] with known non-batch dims, got {s}");
        var g = inputs.Graph;
        var y = Inner.Apply(g.Reshape(inputs, [-1, .. s.Skip(2)]), training);
        if (y.Shape.Skip(1).Any(d => d < 0)) throw new ShapeException($"TimeDistributed '{Name}': {Inner} gave {y.Shape}, with unknown non-batch dims");
        return g.Reshape(y, [-1, s[1], .. y.Shape.Skip(1)]);
    }
}
