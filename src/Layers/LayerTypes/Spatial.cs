namespace Nabla.Layers;

/// <summary>Nearest-neighbour up-sampling of NHWC images by integer factors (keras.layers.UpSampling2D, interpolation "nearest").</summary>
public sealed class UpSampling2D : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="size">[height factor, width factor]; default [2, 2].</param>
    /// <param name="name">Layer name.</param>
    /// <exception cref="ArgumentException">The factors are not two values ≥ 1.</exception>
    public UpSampling2D(int[]? size = null, string? name = null) : base(name)
    {
        size ??= [2, 2];
        if (size.Length != 2 || size[0] < 1 || size[1] < 1)
            throw new ArgumentException($"UpSampling2D '{Name}': size must be two factors ≥ 1, got [{string.Join(",", size)}]", nameof(size));
        Size = (int[])size.Clone();
    }

    /// <summary>[height factor, width factor].</summary>
    public IReadOnlyList<int> Size { get; }

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) => inputs.Graph.UpSampling2D(inputs, Size[0], Size[1], "UpSampling");
}

/// <summary>The (top, bottom, left, right) amounts of a padding or cropping layer: Keras's int, (h, w) or ((top, bottom), (left, right)).</summary>
internal static class Margins
{
    public static int[] Parse(int[]? values, string what, string layer)
    {
        values ??= [1, 1];
        int[] m = values.Length switch
        {
            1 => [values[0], values[0], values[0], values[0]],
            2 => [values[0], values[0], values[1], values[1]],
            4 => (int[])values.Clone(),
            _ => throw new ArgumentException($"{layer}: {what} must be 1, 2 (height, width) or 4 (top, bottom, left, right) values, got {values.Length}", nameof(values)),
        };
        if (m.Any(v => v < 0)) throw new ArgumentException($"{layer}: {what} must be ≥ 0, got [{string.Join(",", values)}]", nameof(values));
        return m;
    }
}

/// <summary>Zero rows and columns around NHWC images (keras.layers.ZeroPadding2D).</summary>
public sealed class ZeroPadding2D : Layer
{
    private readonly int[] _m;

    /// <summary>Creates the layer.</summary>
    /// <param name="padding">One value for every side, [height, width] (symmetric), or [top, bottom, left, right]; default [1, 1].</param>
    /// <param name="name">Layer name.</param>
    /// <exception cref="ArgumentException">A value is negative or the count is not 1, 2 or 4.</exception>
    public ZeroPadding2D(int[]? padding = null, string? name = null) : base(name) => _m = Margins.Parse(padding, "padding", $"ZeroPadding2D '{Name}'");

    /// <summary>[top, bottom, left, right].</summary>
    public IReadOnlyList<int> Padding => _m;

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) => inputs.Graph.ZeroPadding2D(inputs, _m[0], _m[1], _m[2], _m[3], "Pad");
}

/// <summary>Removes rows and columns at the edges of NHWC images (keras.layers.Cropping2D).</summary>
public sealed class Cropping2D : Layer
{
    private readonly int[] _m;

    /// <summary>Creates the layer.</summary>
    /// <param name="cropping">One value for every side, [height, width] (symmetric), or [top, bottom, left, right]; default [1, 1].</param>
    /// <param name="name">Layer name.</param>
    /// <exception cref="ArgumentException">A value is negative or the count is not 1, 2 or 4.</exception>
    public Cropping2D(int[]? cropping = null, string? name = null) : base(name) => _m = Margins.Parse(cropping, "cropping", $"Cropping2D '{Name}'");

    /// <summary>[top, bottom, left, right].</summary>
    public IReadOnlyList<int> Cropping => _m;

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) => inputs.Graph.Cropping2D(inputs, _m[0], _m[1], _m[2], _m[3], "Slice");
}

/// <summary>
/// Dropout of whole channels of NHWC images (keras.layers.SpatialDropout2D): while training, each (image, channel)
/// is zeroed with probability <see cref="Rate"/> and the rest scaled by 1/(1 − rate); the identity at inference.
/// </summary>
/// <remarks>
/// A composition: one [batch, 1, 1, channels] mask from <see cref="Graph.DropoutMask"/> (shaped by a keep-dims max over
/// the spatial axes, which only supplies the shape) broadcast over height and width.
/// </remarks>
public sealed class SpatialDropout2D : Layer
{
    private readonly ulong? _seed;

    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is outside [0, 1).</exception>
    public SpatialDropout2D(double rate, ulong? seed = null, string? name = null) : base(name)
    {
        if (!(rate >= 0 && rate < 1)) throw new ArgumentOutOfRangeException(nameof(rate), rate, $"SpatialDropout2D '{Name}': rate must be in [0, 1)");
        Rate = rate;
        _seed = seed;
    }

    /// <summary>Fraction of channels dropped while training.</summary>
    public double Rate { get; }

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training)
    {
        if (inputs.Shape.Rank != 4) throw new ShapeException($"SpatialDropout2D '{Name}': needs rank 4 [batch, height, width, channels], got {inputs.Shape}");
        if (!training || Rate == 0) return inputs;
        var g = inputs.Graph;
        var noiseShape = g.StopGradient(g.ReduceMax(inputs, [1, 2], keepDims: true));
        return inputs * g.DropoutMask(noiseShape, Rate, _seed);
    }
}
