namespace Nabla.Layers;

/// <summary>
/// Looks up rows of an [inputDim, outputDim] table for integer ids (keras.layers.Embedding): [batch, ...] ids give
/// [batch, ..., outputDim]. The table starts uniform in [−0.05, 0.05] (Keras's default). With <see cref="MaskZero"/>,
/// id 0 is padding: the output carries the mask ids ≠ 0, which recurrent layers use to skip the padded steps.
/// </summary>
/// <remarks>Ids outside [0, inputDim) fail the run (the gather checks its indices). Floating ids are cast to int32, as Keras does.</remarks>
public sealed class Embedding : Layer
{
    private Variable? _embeddings;

    /// <summary>Creates the layer.</summary>
    /// <param name="inputDim">Vocabulary size (largest id + 1).</param>
    /// <param name="outputDim">Embedding width.</param>
    /// <param name="maskZero">Treat id 0 as padding and emit a mask.</param>
    /// <param name="inputLength">Sequence length, when this layer starts a <see cref="Sequential"/> (input shape [inputLength]).</param>
    /// <param name="embeddingsInitializer">Default uniform in [−0.05, 0.05].</param>
    /// <param name="name">Layer name.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive.</exception>
    public Embedding(int inputDim, int outputDim, bool maskZero = false, int? inputLength = null, Initializer? embeddingsInitializer = null, string? name = null)
        : base(name)
    {
        if (inputDim <= 0) throw new ArgumentOutOfRangeException(nameof(inputDim), inputDim, $"Embedding '{Name}': inputDim must be positive");
        if (outputDim <= 0) throw new ArgumentOutOfRangeException(nameof(outputDim), outputDim, $"Embedding '{Name}': outputDim must be positive");
        InputDim = inputDim;
        OutputDim = outputDim;
        MaskZero = maskZero;
        EmbeddingsInitializer = embeddingsInitializer ?? Initializer.RandomUniform(-0.05, 0.05);
        if (inputLength is { } length) InputShape = [length];
    }

    /// <summary>Vocabulary size.</summary>
    public int InputDim { get; }

    /// <summary>Embedding width.</summary>
    public int OutputDim { get; }

    /// <summary>Whether id 0 is padding (the output is masked there).</summary>
    public bool MaskZero { get; }

    /// <summary>Initializer of the table.</summary>
    public Initializer EmbeddingsInitializer { get; }

    /// <summary>The [inputDim, outputDim] table (after the first call).</summary>
    public Variable Embeddings => _embeddings ?? throw new InvalidOperationException($"Embedding '{Name}' is not built yet");

    /// <inheritdoc/>
    protected override void Build(Shape inputShape)
    {
        // Weights are float32 even though the input is integer (Layer picks float32 for integer inputs).
        _embeddings = AddWeight("embeddings", new Shape(InputDim, OutputDim), EmbeddingsInitializer);
    }

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training)
    {
        var g = inputs.Graph;
        var ids = inputs.DType is DType.Int32 or DType.Int64 ? inputs : g.Cast(inputs, DType.Int32);
        return g.Gather(Embeddings.Value, ids, 0, "embedding_lookup");
    }

    /// <inheritdoc/>
    protected internal override Output? ComputeMask(Output input, Output? mask) =>
        MaskZero ? input.Graph.NotEqual(input, input.Graph.Scalar(0, input.DType), "mask") : null;
}
