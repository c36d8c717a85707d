using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// 2-D convolution and its two adjoints, NHWC data and HWIO filters (Keras's layout):
/// <code>
/// Conv2D                y [N, Ho, Wo, Co] = Σ_{i,j,ci} x[n, ho·sh − pt + i·dh, wo·sw − pl + j·dw, ci] · w[i, j, ci, co]
/// Conv2DBackpropInput   dx [N, H, W, Ci]  = the adjoint of Conv2D in x (a transposed convolution of dy)
/// Conv2DBackpropFilter  dw [kh, kw, Ci, Co] = the adjoint of Conv2D in w (x correlated with dy)
/// </code>
/// Shape rule "conv window" (<see cref="ConvShapeRules"/>) for every spatial axis. All three are bilinear, so
/// each one's gradient is built from the other two and second derivatives work: for y = Conv2D(x, w),
/// dx = BackpropInput(dy, w), dw = BackpropFilter(x, dy); for dx = BackpropInput(dy, w) with incoming g,
/// ∂dy = Conv2D(g, w), ∂w = BackpropFilter(g, dy); for dw = BackpropFilter(x, dy) with incoming G,
/// ∂x = BackpropInput(dy, G), ∂dy = Conv2D(x, G). Each identity is ⟨g, A(u, v)⟩ = ⟨A'(g, v), u⟩ for the one
/// sum Σ x·w·dy over the window relation.
/// </summary>
/// <remarks>
/// The kernels are one backend family (<see cref="IBackend.Conv2D"/> etc.); a backend's scratch (the CPU's
/// im2col chunks) is asked for in Prepare, so it is a workspace of the memory plan. NaN and ±∞ propagate
/// through the sums as IEEE arithmetic says (a NaN input poisons every output whose window covers it; zero
/// padding contributes exact zeros).
/// </remarks>
internal static class ConvOps
{
    public static IEnumerable<OpDef> Defs() =>
    [
        new OpDef { Type = "Conv2D", Infer = InferForward, Prepare = ctx => Prepare(ctx, ConvolutionPass.Forward), Kernel = Kernel, Gradient = ForwardGradient },
        new OpDef { Type = "Conv2DBackpropInput", Infer = InferBackpropInput, Prepare = ctx => Prepare(ctx, ConvolutionPass.BackpropInput), Kernel = Kernel, Gradient = BackpropInputGradient },
        new OpDef { Type = "Conv2DBackpropFilter", Infer = InferBackpropFilter, Prepare = ctx => Prepare(ctx, ConvolutionPass.BackpropFilter), Kernel = Kernel, Gradient = BackpropFilterGradient },
    ];

    /// <summary>Strides, dilations and padding of a node, validated.</summary>
    private readonly record struct Attrs(int SH, int SW, int DH, int DW, string Padding);

    private static Attrs Read(InferContext ctx)
    {
        var (sh, sw) = ConvShapeRules.Pair(ctx, "strides", ctx.Attrs.Ints("strides"));
        var (dh, dw) = ConvShapeRules.Pair(ctx, "dilations", ctx.Attrs.Ints("dilations"));
        return new Attrs(sh, sw, dh, dw, ConvShapeRules.Padding(ctx, ctx.Attrs.Get<string>("padding")));
    }

    private static void RequireRank4(InferContext ctx, int input, string what, string layout)
    {
        var s = ctx.Shape(input);
        if (s.Rank != 4) throw ctx.Fail($"{what} must have rank 4 {layout}, got {ctx.DType(input).Name()} {s}");
    }

    private static void RequireFloatingPair(InferContext ctx)
    {
        ctx.RequireFloating(0);
        ctx.RequireSameDType(0, 1);
    }

    /// <summary>Output spatial length along one axis, failing when a valid window does not fit.</summary>
    private static int OutLength(InferContext ctx, string axis, int input, int kernel, int stride, int dilation, string padding, Shape x)
    {
        var w = ConvShapeRules.Along(input, kernel, stride, dilation, padding);
        if (input >= 0 && w.Out < 1 && !(padding == "same" && input == 0))
            throw ctx.Fail($"output {axis} would be {w.Out} < 1: input {axis} {input} is smaller than the dilated filter extent {ConvShapeRules.Effective(kernel, dilation)} with padding \"valid\" (input {x})");
        return w.Out;
    }

    private static void RequireKnownKernel(InferContext ctx, Shape w)
    {
        if (w[0] < 0 || w[1] < 0) throw ctx.Fail($"the filter's height and width must be known when the graph is built, got {w}");
    }

    private static int Merge(int a, int b) => a >= 0 ? a : b;

    private static OutputSpec[] InferForward(InferContext ctx)
    {
        RequireFloatingPair(ctx);
        RequireRank4(ctx, 0, "input", "[batch, height, width, channels]");
        RequireRank4(ctx, 1, "filter", "[height, width, in_channels, out_channels]");
        var a = Read(ctx);
        Shape x = ctx.Shape(0), w = ctx.Shape(1);
        RequireKnownKernel(ctx, w);
        if (x[3] >= 0 && w[2] >= 0 && x[3] != w[2])
            throw ctx.Fail($"input channels differ: input {x} has {x[3]}, filter {w} expects {w[2]}");
        var ho = OutLength(ctx, "height", x[1], w[0], a.SH, a.DH, a.Padding, x);
        var wo = OutLength(ctx, "width", x[2], w[1], a.SW, a.DW, a.Padding, x);
        return InferContext.One(new Shape(x[0], ho, wo, w[3]), ctx.DType(0));
    }

    /// <summary>Inputs (dy, filter[, like]); the input's height and width come from attribute input_size or, when that holds −1, from <c>like</c>'s shape.</summary>
    private static OutputSpec[] InferBackpropInput(InferContext ctx)
    {
        RequireFloatingPair(ctx);
        RequireRank4(ctx, 0, "dy", "[batch, out_height, out_width, out_channels]");
        RequireRank4(ctx, 1, "filter", "[height, width, in_channels, out_channels]");
        var a = Read(ctx);
        Shape dy = ctx.Shape(0), w = ctx.Shape(1);
        RequireKnownKernel(ctx, w);
        var size = ctx.Attrs.Ints("input_size");
        if (size.Length != 2 || size[0] < -1 || size[1] < -1 || (ctx.NumInputs == 2 && (size[0] < 0 || size[1] < 0)))
            throw ctx.Fail($"input_size must be the input's [height, width] (non-negative), got [{string.Join(",", size)}]");
        int h = size[0], wd = size[1];
        if (ctx.NumInputs == 3)
        {
            RequireRank4(ctx, 2, "like", "[batch, height, width, channels]");
            h = Merge(h, ctx.Shape(2)[1]);
            wd = Merge(wd, ctx.Shape(2)[2]);
        }
        if (dy[3] >= 0 && w[3] >= 0 && dy[3] != w[3])
            throw ctx.Fail($"output channels differ: dy {dy} has {dy[3]}, filter {w} produces {w[3]}");
        var ho = ConvShapeRules.Along(h, w[0], a.SH, a.DH, a.Padding).Out;
        var wo = ConvShapeRules.Along(wd, w[1], a.SW, a.DW, a.Padding).Out;
        if ((h >= 0 && dy[1] >= 0 && ho != dy[1]) || (wd >= 0 && dy[2] >= 0 && wo != dy[2]))
            throw ctx.Fail($"dy {dy} does not match the {Shape.Format([h, wd])} input: a \"{a.Padding}\" convolution with filter {w}, strides [{a.SH},{a.SW}] and dilations [{a.DH},{a.DW}] gives [{ho},{wo}]");
        if ((h > 0 && ho < 1) || (wd > 0 && wo < 1))
            throw ctx.Fail($"the {Shape.Format([h, wd])} input is smaller than the dilated filter {w} with padding \"valid\"");
        return InferContext.One(new Shape(dy[0], h, wd, w[2]), ctx.DType(0));
    }

    /// <summary>Inputs (x, dy); attribute filter_size = [kh, kw]; the output is [kh, kw, x channels, dy channels].</summary>
    private static OutputSpec[] InferBackpropFilter(InferContext ctx)
    {
        RequireFloatingPair(ctx);
        RequireRank4(ctx, 0, "input", "[batch, height, width, channels]");
        RequireRank4(ctx, 1, "dy", "[batch, out_height, out_width, out_channels]");
        var a = Read(ctx);
        Shape x = ctx.Shape(0), dy = ctx.Shape(1);
        var k = ctx.Attrs.Ints("filter_size");
        if (k.Length != 2 || k[0] < 1 || k[1] < 1) throw ctx.Fail($"filter_size must be the filter's [height, width] (positive), got [{string.Join(",", k)}]");
        if (x[0] >= 0 && dy[0] >= 0 && x[0] != dy[0]) throw ctx.Fail($"batch sizes differ: input {x} vs dy {dy}");
        var ho = OutLength(ctx, "height", x[1], k[0], a.SH, a.DH, a.Padding, x);
        var wo = OutLength(ctx, "width", x[2], k[1], a.SW, a.DW, a.Padding, x);
        if ((ho >= 0 && dy[1] >= 0 && ho != dy[1]) || (wo >= 0 && dy[2] >= 0 && wo != dy[2]))
            throw ctx.Fail($"dy {dy} does not match the convolution output [{ho},{wo}] of input {x} with a {k[0]}x{k[1]} filter, strides [{a.SH},{a.SW}], dilations [{a.DH},{a.DW}] and padding \"{a.Padding}\"");
        return InferContext.One(new Shape(k[0], k[1], x[3], dy[3]), ctx.DType(0));
    }

    /// <summary>The kernel arguments from a step's concrete shapes: the data side x, the output side y, and the filter.</summary>
    private static Conv2DArgs Args(Attributes attrs, Shape x, Shape y, int kh, int kw)
    {
        var s = attrs.Ints("strides");
        var d = attrs.Ints("dilations");
        int sh = s[0], sw = s[^1], dh = d[0], dw = d[^1];
        var padding = attrs.Get<string>("padding").ToLowerInvariant();
        var wh = ConvShapeRules.Along(x[1], kh, sh, dh, padding);
        var ww = ConvShapeRules.Along(x[2], kw, sw, dw, padding);
        return new Conv2DArgs(x[0], x[1], x[2], x[3], kh, kw, y[3], sh, sw, dh, dw, wh.PadBefore, ww.PadBefore, wh.PadAfter, ww.PadAfter, y[1], y[2]);
    }

    private static Conv2DArgs StepArgs(Attributes attrs, Func<int, Shape> input, Shape output, string type) => type switch
    {
        "Conv2D" => Args(attrs, input(0), output, input(1)[0], input(1)[1]),
        "Conv2DBackpropInput" => Args(attrs, output, input(0), input(1)[0], input(1)[1]),
        _ => Args(attrs, input(0), input(1), output[0], output[1]),
    };

    private sealed record Prepared(Conv2DArgs Args, int Workspace);

    private static void Prepare(PrepareContext ctx, ConvolutionPass pass)
    {
        var args = StepArgs(ctx.Attrs, ctx.InputShape, ctx.OutputShape(0), ctx.Op.Type);
        var elements = ctx.Backend.ConvolutionWorkspace(pass, args, ctx.InputDType(0));
        if (elements > Shape.MaxElements)
            throw new ShapeException($"{ctx.Op}: the backend asks for a {elements}-element workspace, more than 2^31-1");
        ctx.State = new Prepared(args, elements > 0 ? ctx.Workspace(ctx.InputDType(0), (int)elements) : -1);
    }

    private static void Kernel(KernelContext ctx)
    {
        var p = ctx.Prepared<Prepared>();
        var ws = p.Workspace >= 0 ? ctx.Workspace(p.Workspace) : null;
        var y = ctx.Output(0);
        if (ctx.OutputShape(0).Size == 0) return;
        switch (ctx.Op.Type)
        {
            case "Conv2D": ctx.Backend.Conv2D(ctx.Input(0), ctx.Input(1), y, ws, p.Args); break;
            case "Conv2DBackpropInput": ctx.Backend.Conv2DBackpropInput(ctx.Input(0), ctx.Input(1), y, ws, p.Args); break;
            default: ctx.Backend.Conv2DBackpropFilter(ctx.Input(0), ctx.Input(1), y, ws, p.Args); break;
        }
    }

    private static Output?[] ForwardGradient(GradContext g)
    {
        var (x, w, dy) = (g.Input(0), g.Input(1), g.Grad(0)!.Value);
        return [BackpropInputLike(g, dy, w, x), BackpropFilter(g, x, dy, w.Shape)];
    }

    private static Output?[] BackpropInputGradient(GradContext g)
    {
        var (dy, w, grad) = (g.Input(0), g.Input(1), g.Grad(0)!.Value);
        var dDy = g.Graph.AddSingleOutput("Conv2D", [grad, w], Copy(g.Attrs), "Conv2D");
        var dW = BackpropFilter(g, grad, dy, w.Shape);
        return g.Op.Inputs.Count == 3 ? [dDy, dW, null] : [dDy, dW];
    }

    private static Output?[] BackpropFilterGradient(GradContext g)
    {
        var (x, dy, grad) = (g.Input(0), g.Input(1), g.Grad(0)!.Value);
        return [BackpropInputLike(g, dy, grad, x), g.Graph.AddSingleOutput("Conv2D", [x, grad], Copy(g.Attrs), "Conv2D")];
    }

    /// <summary>BackpropInput producing x's shape; x itself is passed as the shape source when its height or width is unknown at build time.</summary>
    private static Output BackpropInputLike(GradContext g, Output dy, Output w, Output x)
    {
        var attrs = Copy(g.Attrs).Set("input_size", new[] { x.Shape[1], x.Shape[2] });
        Output[] inputs = x.Shape[1] >= 0 && x.Shape[2] >= 0 ? [dy, w] : [dy, w, x];
        return g.Graph.AddSingleOutput("Conv2DBackpropInput", inputs, attrs, "Conv2DBackpropInput");
    }

    private static Output BackpropFilter(GradContext g, Output x, Output dy, Shape filter) =>
        g.Graph.AddSingleOutput("Conv2DBackpropFilter", [x, dy], Copy(g.Attrs).Set("filter_size", new[] { filter[0], filter[1] }), "Conv2DBackpropFilter");

    /// <summary>The window attributes (strides, dilations, padding) of a node, for the nodes its gradient builds.</summary>
    internal static Attributes Copy(Attributes a) => new Attributes()
        .Set("strides", a.Ints("strides")).Set("dilations", a.Ints("dilations")).Set("padding", a.Get<string>("padding"));
}

public sealed partial class Graph
{
    private static Attributes ConvAttributes(int[]? strides, string padding, int[]? dilations) => new Attributes()
        .Set("strides", (int[])(strides ?? [1, 1]).Clone()).Set("dilations", (int[])(dilations ?? [1, 1]).Clone()).Set("padding", padding);

    /// <summary>
    /// 2-D convolution (tf.nn.conv2d, NHWC): y[n, ho, wo, co] = Σ_{i,j,ci} x[n, ho·sh − pt + i·dh, wo·sw − pl + j·dw, ci]·w[i, j, ci, co],
    /// with <paramref name="input"/> [batch, height, width, in] and <paramref name="filter"/> [kh, kw, in, out] (HWIO, as Keras stores it).
    /// </summary>
    /// <remarks>
    /// "valid": no padding, out = ⌊(in − e)/s⌋ + 1 with e = (k − 1)·d + 1. "same": out = ⌈in/s⌉, zero padding split with
    /// the odd row/column at the bottom/right (TensorFlow's rule). An unknown batch (or spatial size) stays unknown.
    /// The gradient is <see cref="Conv2DBackpropInput"/> / <see cref="Conv2DBackpropFilter"/>, themselves differentiable.
    /// </remarks>
    /// <param name="input">[batch, height, width, in_channels], float32 or float64.</param>
    /// <param name="filter">[kh, kw, in_channels, out_channels], same dtype; kh and kw must be known.</param>
    /// <param name="strides">[sh, sw] or [s] (default 1).</param>
    /// <param name="padding">"valid" (default) or "same".</param>
    /// <param name="dilations">[dh, dw] or [d] (default 1): filter taps are d apart (atrous convolution).</param>
    /// <param name="name">Node name.</param>
    /// <exception cref="ShapeException">Ranks are not 4, dtypes differ or are not floating, channels differ, a stride or dilation is not positive,
    /// the padding is unknown, or a "valid" window does not fit the input; the message names the node and the shapes.</exception>
    public Output Conv2D(Output input, Output filter, int[]? strides = null, string padding = "valid", int[]? dilations = null, string? name = null) =>
        AddSingleOutput("Conv2D", [input, filter], ConvAttributes(strides, padding, dilations), name);

    /// <summary>
    /// The gradient of <see cref="Conv2D"/> with respect to its input (tf.nn.conv2d_backprop_input): given dy [batch, ho, wo, out]
    /// and the filter, the [batch, inputSize[0], inputSize[1], in] tensor dx with ⟨dx, x⟩ = ⟨dy, Conv2D(x, filter)⟩ for every x.
    /// It is also the transposed convolution (<see cref="Conv2DTranspose"/> is built on it).
    /// </summary>
    /// <param name="dy">[batch, ho, wo, out_channels].</param>
    /// <param name="filter">[kh, kw, in_channels, out_channels].</param>
    /// <param name="inputSize">The forward input's [height, width]; the forward convolution of that size must give dy's [ho, wo].</param>
    /// <param name="strides">As for <see cref="Conv2D"/>.</param>
    /// <param name="padding">As for <see cref="Conv2D"/>.</param>
    /// <param name="dilations">As for <see cref="Conv2D"/>.</param>
    /// <param name="name">Node name.</param>
    /// <exception cref="ShapeException">Shapes or attributes are inconsistent (as for <see cref="Conv2D"/>), or dy does not match the input size.</exception>
    public Output Conv2DBackpropInput(Output dy, Output filter, int[] inputSize, int[]? strides = null, string padding = "valid", int[]? dilations = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(inputSize);
        return AddSingleOutput("Conv2DBackpropInput", [dy, filter], ConvAttributes(strides, padding, dilations).Set("input_size", (int[])inputSize.Clone()), name);
    }

    /// <summary>
    /// The gradient of <see cref="Conv2D"/> with respect to its filter (tf.nn.conv2d_backprop_filter): the
    /// [filterSize[0], filterSize[1], in, out] tensor dw[i, j, ci, co] = Σ_{n,ho,wo} x[n, ho·sh − pt + i·dh, wo·sw − pl + j·dw, ci]·dy[n, ho, wo, co].
    /// </summary>
    /// <param name="input">The forward input [batch, height, width, in_channels].</param>
    /// <param name="dy">[batch, ho, wo, out_channels], the forward output's shape.</param>
    /// <param name="filterSize">The filter's [kh, kw].</param>
    /// <param name="strides">As for <see cref="Conv2D"/>.</param>
    /// <param name="padding">As for <see cref="Conv2D"/>.</param>
    /// <param name="dilations">As for <see cref="Conv2D"/>.</param>
    /// <param name="name">Node name.</param>
    /// <exception cref="ShapeException">Shapes or attributes are inconsistent, or dy is not the forward output's shape.</exception>
    public Output Conv2DBackpropFilter(Output input, Output dy, int[] filterSize, int[]? strides = null, string padding = "valid", int[]? dilations = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(filterSize);
        return AddSingleOutput("Conv2DBackpropFilter", [input, dy], ConvAttributes(strides, padding, dilations).Set("filter_size", (int[])filterSize.Clone()), name);
    }
}
