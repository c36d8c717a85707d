namespace Nabla.Layers;

/// <summary>The shared part of the 1-D and 2-D window pooling layers: validated window, strides and padding.</summary>
public abstract class PoolingLayer : Layer
{
    private protected PoolingLayer(int rank, int[]? poolSize, int[]? strides, string padding, int[]? inputShape, string? name) : base(name)
    {
        poolSize ??= Enumerable.Repeat(2, rank).ToArray();
        if (poolSize.Length != rank || poolSize.Any(k => k < 1))
            throw new ArgumentException($"{GetType().Name} '{Name}': pool size must be {rank} positive values, got [{string.Join(",", poolSize)}]", nameof(poolSize));
        strides ??= poolSize;
        if (strides.Length != rank || strides.Any(k => k < 1))
            throw new ArgumentException($"{GetType().Name} '{Name}': strides must be {rank} positive values, got [{string.Join(",", strides)}]", nameof(strides));
        ArgumentNullException.ThrowIfNull(padding);
        Padding = padding.ToLowerInvariant() is "valid" or "same" ? padding.ToLowerInvariant()
            : throw new ArgumentException($"{GetType().Name} '{Name}': padding must be \"valid\" or \"same\", got \"{padding}\"", nameof(padding));
        PoolSize = (int[])poolSize.Clone();
        Strides = (int[])strides.Clone();
        InputShape = inputShape;
    }

    /// <summary>Window size per spatial axis (Keras default 2).</summary>
    public IReadOnlyList<int> PoolSize { get; }

    /// <summary>Step per spatial axis (Keras default: the pool size).</summary>
    public IReadOnlyList<int> Strides { get; }

    /// <summary>"valid" or "same".</summary>
    public string Padding { get; }
}

/// <summary>Max pooling over the spatial axes of NHWC images (keras.layers.MaxPooling2D).</summary>
/// <param name="poolSize">[height, width] of the window; default [2, 2].</param>
/// <param name="strides">Default the pool size.</param>
/// <param name="padding">"valid" (default) or "same".</param>
/// <param name="inputShape">Input shape without batch, when this layer starts a <see cref="Sequential"/>.</param>
/// <param name="name">Layer name.</param>
public sealed class MaxPooling2D(int[]? poolSize = null, int[]? strides = null, string padding = "valid", int[]? inputShape = null, string? name = null)
    : PoolingLayer(2, poolSize, strides, padding, inputShape, name)
{
    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) => inputs.Graph.MaxPool(inputs, [.. PoolSize], [.. Strides], Padding, "MaxPool");
}

/// <summary>Average pooling over the spatial axes of NHWC images (keras.layers.AveragePooling2D); "same" padding averages only the image's elements.</summary>
/// <param name="poolSize">[height, width] of the window; default [2, 2].</param>
/// <param name="strides">Default the pool size.</param>
/// <param name="padding">"valid" (default) or "same".</param>
/// <param name="inputShape">Input shape without batch, when this layer starts a <see cref="Sequential"/>.</param>
/// <param name="name">Layer name.</param>
public sealed class AveragePooling2D(int[]? poolSize = null, int[]? strides = null, string padding = "valid", int[]? inputShape = null, string? name = null)
    : PoolingLayer(2, poolSize, strides, padding, inputShape, name)
{
    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) => inputs.Graph.AvgPool(inputs, [.. PoolSize], [.. Strides], Padding, "AvgPool");
}

/// <summary>Max pooling over the steps of [batch, steps, channels] sequences (keras.layers.MaxPooling1D).</summary>
/// <param name="poolSize">Window length; default 2.</param>
/// <param name="strides">Default the pool size.</param>
/// <param name="padding">"valid" (default) or "same".</param>
/// <param name="inputShape">Input shape without batch, when this layer starts a <see cref="Sequential"/>.</param>
/// <param name="name">Layer name.</param>
public sealed class MaxPooling1D(int poolSize = 2, int? strides = null, string padding = "valid", int[]? inputShape = null, string? name = null)
    : PoolingLayer(1, [poolSize], strides is { } s ? [s] : null, padding, inputShape, name)
{
    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) => inputs.Graph.MaxPool1D(inputs, PoolSize[0], Strides[0], Padding);
}

/// <summary>Average pooling over the steps of [batch, steps, channels] sequences (keras.layers.AveragePooling1D).</summary>
/// <param name="poolSize">Window length; default 2.</param>
/// <param name="strides">Default the pool size.</param>
/// <param name="padding">"valid" (default) or "same".</param>
/// <param name="inputShape">Input shape without batch, when this layer starts a <see cref="Sequential"/>.</param>
/// <param name="name">Layer name.</param>
public sealed class AveragePooling1D(int poolSize = 2, int? strides = null, string padding = "valid", int[]? inputShape = null, string? name = null)
    : PoolingLayer(1, [poolSize], strides is { } s ? [s] : null, padding, inputShape, name)
{
    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) => inputs.Graph.AvgPool1D(inputs, PoolSize[0], Strides[0], Padding);
}

/// <summary>Mean over height and width of NHWC images: [batch, channels] (keras.layers.GlobalAveragePooling2D).</summary>
/// <param name="keepDims">Keep the spatial axes as size 1 (Keras keepdims).</param>
/// <param name="name">Layer name.</param>
public sealed class GlobalAveragePooling2D(bool keepDims = false, string? name = null) : Layer(name)
{
    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) => inputs.Graph.GlobalAvgPool2D(inputs, keepDims, "Mean");
}

/// <summary>Maximum over height and width of NHWC images: [batch, channels] (keras.layers.GlobalMaxPooling2D).</summary>
/// <param name="keepDims">Keep the spatial axes as size 1 (Keras keepdims).</param>
/// <param name="name">Layer name.</param>
public sealed class GlobalMaxPooling2D(bool keepDims = false, string? name = null) : Layer(name)
{
    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) => inputs.Graph.GlobalMaxPool2D(inputs, keepDims, "Max");
}

/// <summary>Mean over the steps of [batch, steps, channels]: [batch, channels] (keras.layers.GlobalAveragePooling1D).</summary>
/// <param name="keepDims">Keep the steps axis as size 1 (Keras keepdims).</param>
/// <param name="name">Layer name.</param>
public sealed class GlobalAveragePooling1D(bool keepDims = false, string? name = null) : Layer(name)
{
    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) => inputs.Graph.GlobalAvgPool1D(inputs, keepDims, "Mean");
}

/// <summary>Maximum over the steps of [batch, steps, channels]: [batch, channels] (keras.layers.GlobalMaxPooling1D).</summary>
/// <param name="keepDims">Keep the steps axis as size 1 (Keras keepdims).</param>
/// <param name="name">Layer name.</param>
public sealed class GlobalMaxPooling1D(bool keepDims = false, string? name = null) : Layer(name)
{
    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) => inputs.Graph.GlobalMaxPool1D(inputs, keepDims, "Max");
}
