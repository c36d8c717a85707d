namespace Nabla.Layers;

/// <summary>
/// A plain stack of single-input, single-output layers (keras.Sequential). It is built as soon as the
/// input shape is known: from an <see cref="InputLayer"/>, a first layer's <see cref="Layer.InputShape"/>,
/// or else from the first data given to Fit / Predict / Evaluate.
/// </summary>
public sealed class Sequential : Model
{
    private readonly List<Layer> _layers = [];

    /// <summary>An empty model; add layers with <see cref="Add"/>.</summary>
    public Sequential(string? name = null) : base(name)
    {
    }

    /// <summary>A model of the given layers, in order.</summary>
    public Sequential(IEnumerable<Layer> layers, string? name = null) : base(name)
    {
        foreach (var l in layers) Add(l);
    }

    /// <summary>The stacked layers (an <see cref="InputLayer"/> is not listed, as in Keras).</summary>
    public override IReadOnlyList<Layer> Layers => _layers;

    /// <summary>Appends a layer; if the model is already built it is applied to the current output at once.</summary>
    public void Add(Layer layer)
    {
        if (layer is InputLayer input)
        {
            if (_layers.Count > 0 || IsFunctional) throw new InvalidOperationException($"Sequential '{Name}': an InputLayer must come first");
            BuildFrom(input.InputShape!, input.DType);
            return;
        }
        _layers.Add(layer);
        if (IsFunctional) SetGraph([Inputs[0]], [layer.Apply(Outputs[0])]);
        else if (_layers.Count == 1 && layer.InputShape is { } shape) BuildFrom(shape, DType.Float32);
    }

    /// <summary>Removes the last layer (keras Sequential.pop).</summary>
    public void Pop()
    {
        if (_layers.Count == 0) throw new InvalidOperationException($"Sequential '{Name}' has no layers to pop");
        _layers.RemoveAt(_layers.Count - 1);
        if (IsFunctional)
        {
            var t = Inputs[0];
            foreach (var l in _layers) t = l.Apply(t);
            SetGraph([Inputs[0]], [t]);
        }
    }

    /// <summary>Builds the model for per-sample input shape <paramref name="inputShape"/> (Keras model.build).</summary>
    public void Build(int[] inputShape, DType dtype = DType.Float32)
    {
        if (IsFunctional) throw new InvalidOperationException($"Sequential '{Name}' is already built for input {Inputs[0].Shape}");
        BuildFrom(inputShape, dtype);
    }

    internal override Output[] ExecutionInputs(IReadOnlyList<Tensor> sample)
    {
        if (!IsFunctional)
        {
            if (sample.Count != 1) throw new ArgumentException($"Sequential '{Name}' takes one input, got {sample.Count}");
            BuildFrom(sample[0].Shape.Skip(1).ToArray(), sample[0].DType);
        }
        return base.ExecutionInputs(sample);
    }

    private void BuildFrom(int[] inputShape, DType dtype)
    {
        if (_layers.Count == 0 && !IsFunctional)
        {
            // Keep the input so layers added later are applied to it.
            var input = Keras.Input(inputShape, dtype);
            SetGraph([input], [input]);
            return;
        }
        var x = IsFunctional ? Inputs[0] : Keras.Input(inputShape, dtype);
        var t = x;
        foreach (var l in _layers) t = l.Apply(t);
        SetGraph([x], [t]);
    }
}
