namespace Nabla.Layers;

/// <summary>
/// What the convolution layers share (Keras's <c>Conv</c> base): filters, kernel size, strides, padding, dilation,
/// activation, bias and initializers (Glorot uniform / zeros, with Keras's fans: the receptive field times the
/// channels), channels last. Subclasses give the rank and the op.
/// </summary>
public abstract class ConvolutionLayer : Layer
{
    private readonly Func<Output, Output> _activation;
    private Variable? _kernel, _bias;

    /// <summary>Validates and stores the common arguments; <paramref name="rank"/> is 1 or 2 spatial axes.</summary>
    private protected ConvolutionLayer(int rank, int filters, int[] kernelSize, int[]? strides, string padding, int[]? dilationRate,
        string? activation, bool useBias, Initializer? kernelInitializer, Initializer? biasInitializer, int[]? inputShape, string? name,
        string[] paddings) : base(name)
    {
        var type = GetType().Name;
        if (filters <= 0) throw new ArgumentOutOfRangeException(nameof(filters), filters, $"{type} '{Name}': filters must be positive");
        KernelSize = Tuple(kernelSize, rank, nameof(kernelSize), type);
        Strides = Tuple(strides ?? [1], rank, nameof(strides), type);
        DilationRate = Tuple(dilationRate ?? [1], rank, nameof(dilationRate), type);
        var p = padding?.ToLowerInvariant();
        if (p is null || !paddings.Contains(p))
            throw new ArgumentException($"{type} '{Name}': padding must be one of {string.Join(", ", paddings.Select(s => $"\"{s}\""))}, got \"{padding}\"", nameof(padding));
        Filters = filters;
        Padding = p;
        ActivationName = activation ?? "linear";
        _activation = Activations.Get(activation);
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? Initializer.GlorotUniform();
        BiasInitializer = biasInitializer ?? Initializer.Zeros;
        InputShape = inputShape;
    }

    private int[] Tuple(int[] values, int rank, string parameter, string type)
    {
        ArgumentNullException.ThrowIfNull(values, parameter);
        if (values.Length != 1 && values.Length != rank)
            throw new ArgumentException($"{type} '{Name}': {parameter} needs 1 or {rank} entries, got ({string.Join(", ", values)})", parameter);
        if (values.Any(v => v <= 0)) throw new ArgumentOutOfRangeException(parameter, $"{type} '{Name}': {parameter} must be positive, got ({string.Join(", ", values)})");
        return values.Length == rank ? (int[])values.Clone() : Enumerable.Repeat(values[0], rank).ToArray();
    }

    /// <summary>Number of output channels.</summary>
    public int Filters { get; }

    /// <summary>Kernel extent per spatial axis.</summary>
    public IReadOnlyList<int> KernelSize { get; }

    /// <summary>Stride per spatial axis.</summary>
    public IReadOnlyList<int> Strides { get; }

    /// <summary>Dilation per spatial axis.</summary>
    public IReadOnlyList<int> DilationRate { get; }

    /// <summary>"valid", "same" (or, for Conv1D, "causal").</summary>
    public string Padding { get; }

    /// <summary>The activation's Keras name.</summary>
    public string ActivationName { get; }

    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }

    /// <summary>Initializer of the kernel (Glorot uniform by default).</summary>
    public Initializer KernelInitializer { get; }

    /// <summary>Initializer of the bias (zeros by default).</summary>
    public Initializer BiasInitializer { get; }

    /// <summary>The kernel (after the first call), in Keras's layout: [k, in, filters], [kh, kw, in, filters], or [kh, kw, filters, in] for the transpose.</summary>
    public Variable Kernel => _kernel ?? throw new InvalidOperationException($"{GetType().Name} '{Name}' is not built yet");

    /// <summary>The [filters] bias (after the first call; null without bias).</summary>
    public Variable? Bias => _bias;

    /// <summary>Spatial axes (1 or 2).</summary>
    private protected abstract int Rank { get; }

    /// <summary>The kernel's shape for <paramref name="channels"/> input channels.</summary>
    private protected abstract Shape KernelShape(int channels);

    /// <summary>The convolution itself, before bias and activation.</summary>
    private protected abstract Output Convolve(Output inputs, Output kernel);

    /// <inheritdoc/>
    protected override void Build(Shape inputShape)
    {
        if (inputShape.Rank != Rank + 2 || inputShape[^1] < 0)
            throw new ShapeException($"{GetType().Name} '{Name}': the input must be [batch, {(Rank == 1 ? "steps" : "height, width")}, channels] with known channels, got {inputShape}");
        _kernel = AddWeight("kernel", KernelShape(inputShape[^1]), KernelInitializer);
        if (UseBias) _bias = AddWeight("bias", new Shape(Filters), BiasInitializer);
    }

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training)
    {
        var y = Convolve(inputs, Kernel.Value);
        if (_bias is not null) y = inputs.Graph.Add(y, _bias.Value, "BiasAdd");
        return _activation(y);
    }
}

/// <summary>
/// 1-D convolution over [batch, steps, channels] (keras.layers.Conv1D): y = activation(conv1d(x, kernel) + bias) with a
/// [kernel_size, in, filters] kernel; padding "valid", "same" or "causal". Runs as a 2-D convolution of height 1
/// (<see cref="Graph.Conv1D"/>).
/// </summary>
public sealed class Conv1D : ConvolutionLayer
{
    /// <summary>Creates the layer; weights are created on the first call.</summary>
    /// <param name="filters">Output channels.</param>
    /// <param name="kernelSize">Window length.</param>
    /// <param name="strides">Step between windows.</param>
    /// <param name="padding">"valid", "same" or "causal".</param>
    /// <param name="dilationRate">Gap between taps.</param>
    /// <param name="activation">A Keras activation name; null is linear.</param>
    /// <param name="useBias">Whether to add a bias vector.</param>
    /// <param name="kernelInitializer">Default Glorot uniform.</param>
    /// <param name="biasInitializer">Default zeros.</param>
    /// <param name="inputShape">[steps, channels] when this layer starts a <see cref="Sequential"/>.</param>
    /// <param name="name">Layer name.</param>
    public Conv1D(int filters, int kernelSize, int strides = 1, string padding = "valid", int dilationRate = 1, string? activation = null, bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? biasInitializer = null, int[]? inputShape = null, string? name = null)
        : base(1, filters, [kernelSize], [strides], padding, [dilationRate], activation, useBias, kernelInitializer, biasInitializer, inputShape, name, ["valid", "same", "causal"])
    {
    }

    private protected override int Rank => 1;

    private protected override Shape KernelShape(int channels) => new(KernelSize[0], channels, Filters);

    private protected override Output Convolve(Output inputs, Output kernel) =>
        inputs.Graph.Conv1D(inputs, kernel, Strides[0], Padding, DilationRate[0], "conv1d");
}

/// <summary>
/// 2-D convolution over NHWC images (keras.layers.Conv2D): y = activation(conv2d(x, kernel) + bias) with an HWIO kernel
/// [kh, kw, in, filters]; "same" pads the odd row/column at the bottom/right, as Keras.
/// </summary>
public sealed class Conv2D : ConvolutionLayer
{
    /// <summary>Creates the layer with a square kernel; weights are created on the first call.</summary>
    /// <param name="filters">Output channels.</param>
    /// <param name="kernelSize">Kernel height and width.</param>
    /// <param name="strides">[sh, sw] or [s] (default 1).</param>
    /// <param name="padding">"valid" or "same".</param>
    /// <param name="dilationRate">[dh, dw] or [d] (default 1).</param>
    /// <param name="activation">A Keras activation name; null is linear.</param>
    /// <param name="useBias">Whether to add a bias vector.</param>
    /// <param name="kernelInitializer">Default Glorot uniform.</param>
    /// <param name="biasInitializer">Default zeros.</param>
    /// <param name="inputShape">[height, width, channels] when this layer starts a <see cref="Sequential"/>.</param>
    /// <param name="name">Layer name.</param>
    public Conv2D(int filters, int kernelSize, int[]? strides = null, string padding = "valid", int[]? dilationRate = null, string? activation = null,
        bool useBias = true, Initializer? kernelInitializer = null, Initializer? biasInitializer = null, int[]? inputShape = null, string? name = null)
        : this(filters, [kernelSize], strides, padding, dilationRate, activation, useBias, kernelInitializer, biasInitializer, inputShape, name)
    {
    }

    /// <summary>Creates the layer with a [kh, kw] kernel; see the other constructor for the parameters.</summary>
    /// <param name="filters">Output channels.</param>
    /// <param name="kernelSize">[kh, kw] or [k].</param>
    /// <param name="strides">[sh, sw] or [s] (default 1).</param>
    /// <param name="padding">"valid" or "same".</param>
    /// <param name="dilationRate">[dh, dw] or [d] (default 1).</param>
    /// <param name="activation">A Keras activation name; null is linear.</param>
    /// <param name="useBias">Whether to add a bias vector.</param>
    /// <param name="kernelInitializer">Default Glorot uniform.</param>
    /// <param name="biasInitializer">Default zeros.</param>
    /// <param name="inputShape">[height, width, channels] when this layer starts a <see cref="Sequential"/>.</param>
    /// <param name="name">Layer name.</param>
    public Conv2D(int filters, int[] kernelSize, int[]? strides = null, string padding = "valid", int[]? dilationRate = null, string? activation = null,
        bool useBias = true, Initializer? kernelInitializer = null, Initializer? biasInitializer = null, int[]? inputShape = null, string? name = null)
        : base(2, filters, kernelSize, strides, padding, dilationRate, activation, useBias, kernelInitializer, biasInitializer, inputShape, name, ["valid", "same"])
    {
    }

    private protected override int Rank => 2;

    private protected override Shape KernelShape(int channels) => new(KernelSize[0], KernelSize[1], channels, Filters);

    private protected override Output Convolve(Output inputs, Output kernel) =>
        inputs.Graph.Conv2D(inputs, kernel, [.. Strides], Padding, [.. DilationRate], "Conv2D");
}

/// <summary>
/// Transposed 2-D convolution (keras.layers.Conv2DTranspose): the adjoint of a Conv2D, upsampling by the strides. The
/// kernel is [kh, kw, filters, in] as Keras stores it; the output size is Keras's <c>deconv_output_length</c>
/// (see <see cref="Graph.Conv2DTranspose"/>).
/// </summary>
public sealed class Conv2DTranspose : ConvolutionLayer
{
    private readonly int[]? _outputPadding;

    /// <summary>Creates the layer with a square kernel; weights are created on the first call.</summary>
    /// <param name="filters">Output channels.</param>
    /// <param name="kernelSize">Kernel height and width.</param>
    /// <param name="strides">[sh, sw] or [s] (default 1).</param>
    /// <param name="padding">"valid" or "same".</param>
    /// <param name="outputPadding">[qh, qw] or [q], each below its stride, or null (Keras's rule without it).</param>
    /// <param name="dilationRate">[dh, dw] or [d] (default 1).</param>
    /// <param name="activation">A Keras activation name; null is linear.</param>
    /// <param name="useBias">Whether to add a bias vector.</param>
    /// <param name="kernelInitializer">Default Glorot uniform.</param>
    /// <param name="biasInitializer">Default zeros.</param>
    /// <param name="inputShape">[height, width, channels] when this layer starts a <see cref="Sequential"/>.</param>
    /// <param name="name">Layer name.</param>
    public Conv2DTranspose(int filters, int kernelSize, int[]? strides = null, string padding = "valid", int[]? outputPadding = null, int[]? dilationRate = null,
        string? activation = null, bool useBias = true, Initializer? kernelInitializer = null, Initializer? biasInitializer = null, int[]? inputShape = null, string? name = null)
        : this(filters, [kernelSize], strides, padding, outputPadding, dilationRate, activation, useBias, kernelInitializer, biasInitializer, inputShape, name)
    {
    }

    /// <summary>Creates the layer with a [kh, kw] kernel; see the other constructor for the parameters.</summary>
    /// <param name="filters">Output channels.</param>
    /// <param name="kernelSize">[kh, kw] or [k].</param>
    /// <param name="strides">[sh, sw] or [s] (default 1).</param>
    /// <param name="padding">"valid" or "same".</param>
    /// <param name="outputPadding">[qh, qw] or [q], each below its stride, or null.</param>
    /// <param name="dilationRate">[dh, dw] or [d] (default 1).</param>
    /// <param name="activation">A Keras activation name; null is linear.</param>
    /// <param name="useBias">Whether to add a bias vector.</param>
    /// <param name="kernelInitializer">Default Glorot uniform.</param>
    /// <param name="biasInitializer">Default zeros.</param>
    /// <param name="inputShape">[height, width, channels] when this layer starts a <see cref="Sequential"/>.</param>
    /// <param name="name">Layer name.</param>
    public Conv2DTranspose(int filters, int[] kernelSize, int[]? strides = null, string padding = "valid", int[]? outputPadding = null, int[]? dilationRate = null,
        string? activation = null, bool useBias = true, Initializer? kernelInitializer = null, Initializer? biasInitializer = null, int[]? inputShape = null, string? name = null)
        : base(2, filters, kernelSize, strides, padding, dilationRate, activation, useBias, kernelInitializer, biasInitializer, inputShape, name, ["valid", "same"])
    {
        if (outputPadding is not null)
        {
            if (outputPadding.Length is not (1 or 2) || outputPadding.Any(q => q < 0))
                throw new ArgumentException($"Conv2DTranspose '{Name}': outputPadding needs 1 or 2 non-negative entries, got ({string.Join(", ", outputPadding)})", nameof(outputPadding));
            _outputPadding = outputPadding.Length == 2 ? (int[])outputPadding.Clone() : [outputPadding[0], outputPadding[0]];
            if (_outputPadding[0] >= Strides[0] || _outputPadding[1] >= Strides[1])
                throw new ArgumentException($"Conv2DTranspose '{Name}': outputPadding ({string.Join(", ", _outputPadding)}) must be smaller than the strides ({string.Join(", ", Strides)})", nameof(outputPadding));
        }
    }

    /// <summary>Output padding per axis, or null.</summary>
    public IReadOnlyList<int>? OutputPadding => _outputPadding;

    private protected override int Rank => 2;

    private protected override Shape KernelShape(int channels) => new(KernelSize[0], KernelSize[1], Filters, channels);

    private protected override Output Convolve(Output inputs, Output kernel) =>
        inputs.Graph.Conv2DTranspose(inputs, kernel, [.. Strides], Padding, _outputPadding, [.. DilationRate], name: "conv2d_transpose");
}
