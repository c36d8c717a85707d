using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// 2-D max and average pooling over NHWC images (tf.nn.max_pool2d / avg_pool2d) and their gradients, each a
/// registered op with the window shape rule of <see cref="SpatialRules"/>. Kernels, not compositions: a window
/// reduction written with slices would cost one strided copy per window offset. 1-D pooling, global pooling and
/// up-sampling are compositions (see the builders).
/// </summary>
internal static class PoolingOps
{
    public static IEnumerable<OpDef> Defs() =>
    [
        PoolDef("MaxPool", PoolKind.Max, g => [g.Graph.MaxPoolGrad(g.Input(0), g.Grad(0)!.Value, g.Attrs)]),
        PoolDef("AvgPool", PoolKind.Average, g => [g.Graph.AvgPoolGrad(g.Input(0), g.Grad(0)!.Value, g.Attrs)]),
        GradDef("MaxPoolGrad", PoolKind.Max),
        GradDef("AvgPoolGrad", PoolKind.Average),
    ];

    private static OpDef PoolDef(string type, PoolKind kind, GradientFn gradient) => new()
    {
        Type = type,
        Infer = ctx =>
        {
            ctx.RequireFloating(0);
            return InferContext.One(SpatialRules.Pool2D(ctx, ctx.Shape(0)), ctx.DType(0));
        },
        Kernel = ctx =>
        {
            if (ctx.OutputShape(0).ElementCount == 0) return;
            ctx.Backend.Pool2D(kind, ctx.Input(0), ctx.Output(0), SpatialRules.Args(ctx.Attrs, ctx.InputShape(0)));
        },
        Gradient = gradient,
    };

    /// <summary>Inputs: the forward input x (read by MaxPoolGrad; only its shape for AvgPoolGrad) and dy; output dx shaped like x.</summary>
    private static OpDef GradDef(string type, PoolKind kind) => new()
    {
        Type = type,
        Infer = ctx =>
        {
            ctx.RequireFloating(0);
            ctx.RequireSameDType(0, 1);
            var expected = SpatialRules.Pool2D(ctx, ctx.Shape(0));
            if (!expected.IsCompatibleWith(ctx.Shape(1)))
                throw ctx.Fail($"the gradient {ctx.Shape(1)} must have the pooled shape {expected} of the input {ctx.Shape(0)}");
            return InferContext.One(ctx.Shape(0), ctx.DType(0));
        },
        Kernel = ctx =>
        {
            if (ctx.OutputShape(0).ElementCount == 0) return;
            if (ctx.InputShape(1).ElementCount == 0) { ctx.Backend.Fill(ctx.Output(0), 0); return; }
            ctx.Backend.Pool2DGrad(kind, kind == PoolKind.Max ? ctx.Input(0) : null, ctx.Input(1), ctx.Output(0), SpatialRules.Args(ctx.Attrs, ctx.InputShape(0)));
        },
        // AvgPoolGrad is linear in dy, and its adjoint is average pooling again; x only supplies the shape.
        Gradient = kind == PoolKind.Average ? g => [null, g.Graph.AddSingleOutput("AvgPool", [g.Grad(0)!.Value], g.Attrs)] : null,
        NotDifferentiable = kind == PoolKind.Max ? "second-order gradients of max pooling are not implemented" : null,
    };
}

public sealed partial class Graph
{
    /// <summary>
    /// Max pooling of NHWC images x [batch, height, width, channels] (tf.nn.max_pool2d): each output pixel is the
    /// largest element of its ksize window, stepped by strides. Padding "valid" keeps only windows inside the image;
    /// "same" gives ⌈in / stride⌉ outputs per axis, padding with −∞ (the extra row/column after the image).
    /// </summary>
    /// <remarks>NaN in a window gives NaN. The gradient goes to the first maximum of each window (row-major), as TensorFlow's.</remarks>
    /// <exception cref="ShapeException">x is not a floating rank-4 tensor, ksize/strides are not 2 positive values, padding is unknown, or a "valid" window is larger than the image.</exception>
    public Output MaxPool(Output x, int[] ksize, int[] strides, string padding = "valid", string? name = null) =>
        AddSingleOutput("MaxPool", [x], SpatialRules.WindowAttrs("MaxPool", ksize, strides, padding), name);

    /// <summary>
    /// Average pooling of NHWC images (tf.nn.avg_pool2d): the mean of each window. With "same" padding the mean is
    /// over the window's elements inside the image only (padding is not counted), as TensorFlow's.
    /// </summary>
    /// <exception cref="ShapeException">As <see cref="MaxPool"/>.</exception>
    public Output AvgPool(Output x, int[] ksize, int[] strides, string padding = "valid", string? name = null) =>
        AddSingleOutput("AvgPool", [x], SpatialRules.WindowAttrs("AvgPool", ksize, strides, padding), name);

    /// <summary>1-D max pooling of x [batch, steps, channels]: <see cref="MaxPool"/> on x with a height-1 axis inserted.</summary>
    /// <exception cref="ShapeException">x is not a floating rank-3 tensor, or the window is invalid (as <see cref="MaxPool"/>).</exception>
    public Output MaxPool1D(Output x, int poolSize, int stride, string padding = "valid", string? name = null) => Pool1D("MaxPool", x, poolSize, stride, padding, name);

    /// <summary>1-D average pooling of x [batch, steps, channels] (see <see cref="MaxPool1D"/>).</summary>
    /// <exception cref="ShapeException">As <see cref="MaxPool1D"/>.</exception>
    public Output AvgPool1D(Output x, int poolSize, int stride, string padding = "valid", string? name = null) => Pool1D("AvgPool", x, poolSize, stride, padding, name);

    private Output Pool1D(string type, Output x, int poolSize, int stride, string padding, string? name)
    {
        RequireArgument(x, type, nameof(x));
        if (x.Shape.Rank != 3) throw new ShapeException($"{type} '{name ?? type}': 1-D pooling needs rank 3 [batch, steps, channels], got {x.Shape}");
        using (NameScope(name ?? type.Replace("Pool", "Pool1D", StringComparison.Ordinal)))
        {
            var pooled = AddSingleOutput(type, [ExpandDims(x, 1)], SpatialRules.WindowAttrs(type, [1, poolSize], [1, stride], padding));
            return Squeeze(pooled, [1]);
        }
    }

    /// <summary>The gradient of <see cref="MaxPool"/>: dy routed to the first maximum of each window of x.</summary>
    internal Output MaxPoolGrad(Output x, Output dy, Attributes window, string? name = null) => AddSingleOutput("MaxPoolGrad", [x, dy], window, name);

    /// <summary>The gradient of <see cref="AvgPool"/>: dy / count spread over each window of an image shaped like x.</summary>
    internal Output AvgPoolGrad(Output x, Output dy, Attributes window, string? name = null) => AddSingleOutput("AvgPoolGrad", [x, dy], window, name);

    /// <summary>Mean over the spatial axes 1 and 2 of NHWC x, giving [batch, channels] (or [batch, 1, 1, channels] with keepDims).</summary>
    /// <remarks>A reduction, not a kernel of its own: the existing Mean over axes [1, 2] is already one pass.</remarks>
    /// <exception cref="ShapeException">x is not rank 4.</exception>
    public Output GlobalAvgPool2D(Output x, bool keepDims = false, string? name = null) => GlobalPool(x, 4, false, keepDims, name ?? "global_average_pooling2d");

    /// <summary>Maximum over the spatial axes 1 and 2 of NHWC x (see <see cref="GlobalAvgPool2D"/>); the gradient is split among tied maxima, as ReduceMax's.</summary>
    /// <exception cref="ShapeException">x is not rank 4.</exception>
    public Output GlobalMaxPool2D(Output x, bool keepDims = false, string? name = null) => GlobalPool(x, 4, true, keepDims, name ?? "global_max_pooling2d");

    /// <summary>Mean over the steps axis 1 of x [batch, steps, channels].</summary>
    /// <exception cref="ShapeException">x is not rank 3.</exception>
    public Output GlobalAvgPool1D(Output x, bool keepDims = false, string? name = null) => GlobalPool(x, 3, false, keepDims, name ?? "global_average_pooling1d");

    /// <summary>Maximum over the steps axis 1 of x [batch, steps, channels].</summary>
    /// <exception cref="ShapeException">x is not rank 3.</exception>
    public Output GlobalMaxPool1D(Output x, bool keepDims = false, string? name = null) => GlobalPool(x, 3, true, keepDims, name ?? "global_max_pooling1d");

    private Output GlobalPool(Output x, int rank, bool max, bool keepDims, string name)
    {
        RequireArgument(x, name, nameof(x));
        if (x.Shape.Rank != rank)
            throw new ShapeException($"{(max ? "Max" : "Mean")} '{name}': global pooling needs rank {rank} ({(rank == 4 ? "[batch, height, width, channels]" : "[batch, steps, channels]")}), got {x.Shape}");
        int[] axes = rank == 4 ? [1, 2] : [1];
        return max ? ReduceMax(x, axes, keepDims, name) : ReduceMean(x, axes, keepDims, name);
    }

    /// <summary>
    /// Nearest-neighbour up-sampling of NHWC x by integer factors (keras UpSampling2D): each pixel becomes a
    /// sizeH × sizeW block. A composition (reshape, tile, reshape), so its gradient (a block sum) comes from theirs.
    /// </summary>
    /// <exception cref="ShapeException">x is not rank 4 with known height, width and channels, or a factor is below 1.</exception>
    public Output UpSampling2D(Output x, int sizeH, int sizeW, string? name = null)
    {
        var scope = name ?? "up_sampling2d";
        RequireArgument(x, "UpSampling2D", nameof(x));
        var s = x.Shape;
        if (s.Rank != 4 || s[1] < 0 || s[2] < 0 || s[3] < 0)
            throw new ShapeException($"UpSampling2D '{scope}': needs rank 4 [batch, height, width, channels] with known height, width and channels, got {x.Shape}");
        if (sizeH < 1 || sizeW < 1) throw new ShapeException($"UpSampling2D '{scope}': factors must be ≥ 1, got {sizeH}x{sizeW} for {x.Shape}");
        using (NameScope(scope))
        {
            var blocks = Tile(Reshape(x, [-1, s[1], 1, s[2], 1, s[3]]), [1, 1, sizeH, 1, sizeW, 1]);
            return Reshape(blocks, [-1, s[1] * sizeH, s[2] * sizeW, s[3]]);
        }
    }

    /// <summary>Zero padding of the spatial axes of NHWC x (keras ZeroPadding2D): a <see cref="Pad"/> of axes 1 and 2.</summary>
    /// <exception cref="ShapeException">x is not rank 4, or a padding is negative.</exception>
    public Output ZeroPadding2D(Output x, int top, int bottom, int left, int right, string? name = null)
    {
        RequireArgument(x, "Pad", nameof(x));
        if (x.Shape.Rank != 4) throw new ShapeException($"Pad '{name ?? "zero_padding2d"}': ZeroPadding2D needs rank 4 [batch, height, width, channels], got {x.Shape}");
        return Pad(x, new[,] { { 0, 0 }, { top, bottom }, { left, right }, { 0, 0 } }, 0, name ?? "zero_padding2d");
    }

    /// <summary>Cropping of the spatial axes of NHWC x (keras Cropping2D): a <see cref="Slice"/> of axes 1 and 2.</summary>
    /// <exception cref="ShapeException">x is not rank 4 with known height and width, a crop is negative, or the crops remove the whole image.</exception>
    public Output Cropping2D(Output x, int top, int bottom, int left, int right, string? name = null)
    {
        var scope = name ?? "cropping2d";
        RequireArgument(x, "Slice", nameof(x));
        var s = x.Shape;
        if (s.Rank != 4 || s[1] < 0 || s[2] < 0)
            throw new ShapeException($"Slice '{scope}': Cropping2D needs rank 4 [batch, height, width, channels] with known height and width, got {s}");
        if (top < 0 || bottom < 0 || left < 0 || right < 0)
            throw new ShapeException($"Slice '{scope}': crops must be ≥ 0, got top {top} bottom {bottom} left {left} right {right}");
        if ((long)top + bottom >= s[1] || (long)left + right >= s[2])
            throw new ShapeException($"Slice '{scope}': crops ({top}+{bottom}, {left}+{right}) leave nothing of the {s[1]}x{s[2]} image {s}");
        return Slice(x, [0, top, left, 0], [-1, s[1] - top - bottom, s[2] - left - right, -1], scope);
    }
}
