namespace Nabla.Layers;

/// <summary>Flattens every axis but the batch axis (keras.layers.Flatten); the inner dimensions must be known.</summary>
public sealed class Flatten : Layer
{
    /// <summary>Creates the layer.</summary>
    public Flatten(int[]? inputShape = null, string? name = null) : base(name) => InputShape = inputShape;

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training)
    {
        var s = inputs.Shape;
        if (s.Rank < 1) throw new ShapeException($"Flatten '{Name}': input needs a batch axis, got {s}");
        var inner = 1;
        for (var i = 1; i < s.Rank; i++)
        {
            if (s[i] < 0) throw new ShapeException($"Flatten '{Name}': inner dimensions must be known, got {s}");
            inner *= s[i];
        }
        return inputs.Graph.Reshape(inputs, [-1, inner]);
    }
}

/// <summary>Reshapes each sample to <see cref="TargetShape"/> (keras.layers.Reshape); one entry may be −1.</summary>
public sealed class Reshape : Layer
{
    /// <summary>Creates the layer.</summary>
    public Reshape(int[] targetShape, int[]? inputShape = null, string? name = null) : base(name)
    {
        if (targetShape.Count(d => d == -1) > 1 || targetShape.Any(d => d < -1))
            throw new ArgumentException($"Reshape '{Name}': target shape ({string.Join(", ", targetShape)}) may have one −1 and no other negative entry", nameof(targetShape));
        TargetShape = (int[])targetShape.Clone();
        InputShape = inputShape;
    }

    /// <summary>Per-sample output shape.</summary>
    public IReadOnlyList<int> TargetShape { get; }

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training)
    {
        var s = inputs.Shape;
        var target = TargetShape.ToArray();
        var inner = 1L;
        for (var i = 1; i < s.Rank; i++)
        {
            if (s[i] < 0) throw new ShapeException($"Reshape '{Name}': inner input dimensions must be known, got {s}");
            inner *= s[i];
        }
        var known = target.Where(d => d >= 0).Aggregate(1L, (a, d) => a * d);
        var wild = Array.IndexOf(target, -1);
        if (wild >= 0)
        {
            if (known == 0 || inner % known != 0) throw new ShapeException($"Reshape '{Name}': cannot reshape samples of {s} to ({string.Join(", ", TargetShape)})");
            target[wild] = (int)(inner / known);
        }
        else if (known != inner)
            throw new ShapeException($"Reshape '{Name}': samples of {s} have {inner} elements, target ({string.Join(", ", TargetShape)}) has {known}");
        return inputs.Graph.Reshape(inputs, [-1, .. target]);
    }
}

/// <summary>Element-wise sum of several inputs of one shape (keras.layers.Add).</summary>
public sealed class Add(string? name = null) : Layer(name)
{
    /// <inheritdoc/>
    protected override Output[] Call(Output[] inputs, bool training)
    {
        if (inputs.Length < 2) throw new ArgumentException($"Add '{Name}': needs at least two inputs, got {inputs.Length}", nameof(inputs));
        var sum = inputs[0];
        for (var i = 1; i < inputs.Length; i++)
        {
            if (!inputs[i].Shape.IsCompatibleWith(inputs[0].Shape))
                throw new ShapeException($"Add '{Name}': input {i} has shape {inputs[i].Shape}, input 0 has {inputs[0].Shape}");
            sum = sum + inputs[i];
        }
        return [sum];
    }
}

/// <summary>Joins inputs along an axis (keras.layers.Concatenate; default the last axis).</summary>
public sealed class Concatenate(int axis = -1, string? name = null) : Layer(name)
{
    /// <summary>The axis joined along.</summary>
    public int Axis { get; } = axis;

    /// <inheritdoc/>
    protected override Output[] Call(Output[] inputs, bool training)
    {
        if (inputs.Length < 2) throw new ArgumentException($"Concatenate '{Name}': needs at least two inputs, got {inputs.Length}", nameof(inputs));
        var axis = Axis < 0 ? Axis + inputs[0].Shape.Rank : Axis;
        return [inputs[0].Graph.Concat(inputs, axis)];
    }
}

/// <summary>Wraps a function of graph outputs as a layer (keras.layers.Lambda); it has no weights.</summary>
public sealed class Lambda : Layer
{
    private readonly Func<Output[], bool, Output[]> _f;

    /// <summary>A single-input function.</summary>
    public Lambda(Func<Output, Output> function, string? name = null) : base(name) => _f = (xs, _) => [function(xs.Single())];

    /// <summary>A general function of all inputs and the training flag.</summary>
    public Lambda(Func<Output[], bool, Output[]> function, string? name = null) : base(name) => _f = function;

    /// <inheritdoc/>
    protected override Output[] Call(Output[] inputs, bool training) => _f(inputs, training);
}

/// <summary>Declares the per-sample input shape at the start of a <see cref="Sequential"/> model (keras.layers.InputLayer).</summary>
public sealed class InputLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    public InputLayer(int[] shape, DType dtype = DType.Float32, string? name = null) : base(name)
    {
        InputShape = (int[])shape.Clone();
        DType = dtype;
    }

    /// <summary>Input element type.</summary>
    public DType DType { get; }

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) => inputs;
}
