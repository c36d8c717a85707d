namespace Nabla.Layers;

/// <summary>Repeats a [batch, features] input n times: [batch, n, features] (keras.layers.RepeatVector).</summary>
public sealed class RepeatVector : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not positive.</exception>
    public RepeatVector(int n, string? name = null) : base(name)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, $"RepeatVector '{Name}': n must be positive");
        N = n;
    }

    /// <summary>Number of repetitions.</summary>
    public int N { get; }

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training)
    {
        if (inputs.Shape.Rank != 2) throw new ShapeException($"RepeatVector '{Name}': the input must be [batch, features], got {inputs.Shape}");
        var g = inputs.Graph;
        return g.Tile(g.ExpandDims(inputs, 1), [1, N, 1]);
    }
}

/// <summary>
/// Masks the steps of a [batch, time, features] input whose features all equal <see cref="MaskValue"/>
/// (keras.layers.Masking): they are set to 0 and the output carries the mask, which recurrent layers use to skip them.
/// </summary>
public sealed class Masking(double maskValue = 0, string? name = null) : Layer(name)
{
    /// <summary>The padding value.</summary>
    public double MaskValue { get; } = maskValue;

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training)
    {
        var g = inputs.Graph;
        return inputs * g.ExpandDims(g.Cast(StepMask(inputs), inputs.DType), -1);
    }

    /// <inheritdoc/>
    protected internal override Output? ComputeMask(Output input, Output? mask) => StepMask(input);

    /// <summary>True where some feature of the step differs from the mask value: [batch, time].</summary>
    private Output StepMask(Output x)
    {
        if (x.Shape.Rank < 2) throw new ShapeException($"Masking '{Name}': the input must be [batch, time, ...features], got {x.Shape}");
        var g = x.Graph;
        var differs = g.Cast(g.NotEqual(x, g.Scalar(MaskValue, x.DType)), x.DType);
        return g.Greater(g.ReduceMax(differs, [x.Shape.Rank - 1]), g.Scalar(0, x.DType));
    }
}

/// <summary>Permutes the non-batch axes (keras.layers.Permute); <see cref="Dims"/> are 1-based, as Keras.</summary>
public sealed class Permute : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentException"><paramref name="dims"/> is not a permutation of 1..n.</exception>
    public Permute(int[] dims, string? name = null) : base(name)
    {
        if (dims.Length == 0 || dims.Order().Where((d, i) => d != i + 1).Any())
            throw new ArgumentException($"Permute '{Name}': dims must be a permutation of 1..{dims.Length}, got [{string.Join(",", dims)}]", nameof(dims));
        Dims = (int[])dims.Clone();
    }

    /// <summary>The permutation of axes 1..n.</summary>
    public IReadOnlyList<int> Dims { get; }

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training)
    {
        if (inputs.Shape.Rank != Dims.Count + 1)
            throw new ShapeException($"Permute '{Name}': dims [{string.Join(",", Dims)}] need a rank-{Dims.Count + 1} input, got {inputs.Shape}");
        return inputs.Graph.Transpose(inputs, [0, .. Dims]);
    }
}
