namespace Nabla.Layers;

/// <summary>
/// A symbolic tensor of the functional API: the output of <see cref="Keras.Input(int[])"/> or of a layer
/// applied to other symbolic tensors. It remembers the layer call that produced it, so that
/// <see cref="Model"/> can replay the calls (once for training, once for inference).
/// </summary>
public sealed class KerasTensor
{
    internal KerasTensor(Output value, LayerCall? producer, int index)
    {
        Value = value;
        Producer = producer;
        Index = index;
    }

    /// <summary>The graph output of this call traced in inference mode (its static shape and dtype).</summary>
    public Output Value { get; }

    /// <summary>Static shape; the batch dimension is −1.</summary>
    public Shape Shape => Value.Shape;

    /// <summary>Element type.</summary>
    public DType DType => Value.DType;

    /// <summary>The layer call that produced it; null for an input.</summary>
    internal LayerCall? Producer { get; }

    /// <summary>Which output of <see cref="Producer"/> this is.</summary>
    internal int Index { get; }

    /// <summary>Whether this is a model input (made by <see cref="Keras.Input(int[])"/>).</summary>
    public bool IsInput => Producer is null;

    /// <inheritdoc/>
    public override string ToString() => $"KerasTensor(shape={FormatShape(Shape)}, dtype={DType.Name()}, name='{Value.Name}')";

    /// <summary>Keras's shape notation: (None, 128).</summary>
    internal static string FormatShape(Shape s) =>
        s.Rank == 1 ? $"({Dim(s[0])},)" : "(" + string.Join(", ", s.Select(Dim)) + ")";

    private static string Dim(int d) => d < 0 ? "None" : d.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>One application of a layer to symbolic inputs: a node of a functional model's DAG.</summary>
internal sealed class LayerCall(Layer layer, KerasTensor[] inputs)
{
    public Layer Layer { get; } = layer;
    public KerasTensor[] Inputs { get; } = inputs;
    public KerasTensor[] Outputs { get; set; } = [];
}
