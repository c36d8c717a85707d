using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Windows: slice (read a box out of a tensor) and pad (write a tensor into a box of a constant),
/// plus their run-time-shaped twins SliceLike and PadLike, whose box is the shape of another
/// tensor. Each is the other's gradient, so gradients of any order need only these four ops and
/// work when dimensions are unknown until the graph runs. One strided copy each (plus one fill).
/// </summary>
internal static class SliceOps
{
    public static IEnumerable<OpDef> Defs() =>
    [
        new OpDef
        {
            Type = "Slice",
            Infer = ctx =>
            {
                var s = ctx.Shape(0);
                var (begin, size) = (ctx.Attrs.Ints("begin"), ctx.Attrs.Ints("size"));
                var text = $"begin {Regions.Format(begin)} size {Regions.Format(size)}";
                if (begin.Length != s.Rank || size.Length != s.Rank) throw ctx.Fail($"{text} need {s.Rank} entries each for input {s}");
                var dims = new int[s.Rank];
                for (var k = 0; k < s.Rank; k++)
                {
                    var (b, z, d) = (begin[k], size[k], s[k]);
                    if (b < 0) throw ctx.Fail($"{text}: begin is negative on axis {k}");
                    if (z < -1) throw ctx.Fail($"{text}: size on axis {k} must be ≥ 0, or -1 for 'to the end'");
                    // In long: begin + size can pass int.MaxValue and wrap to a negative that "fits".
                    if (d >= 0 && (b > d || (z >= 0 && (long)b + z > d))) throw ctx.Fail($"{text} does not fit in {s} on axis {k} (size {d})");
                    dims[k] = z >= 0 ? z : d < 0 ? -1 : d - b;
                }
                return InferContext.One(new Shape(dims), ctx.DType(0));
            },
            Kernel = ctx =>
            {
                var (xs, o) = (ctx.InputShape(0).Strides(), ctx.OutputShape(0));
                ctx.Backend.Copy(new StridedView(ctx.Input(0), Regions.Offset(ctx.Attrs.Ints("begin"), xs), xs), Regions.Dense(ctx.Output(0), o), o.Span);
            },
            Gradient = g => g.Input(0).DType.IsFloating() ? [g.Graph.PadLike(g.Grad(0)!.Value, g.Input(0), g.Attrs.Ints("begin"))] : [null],
        },
        new OpDef
        {
            Type = "Pad",
            Infer = ctx =>
            {
                var s = ctx.Shape(0);
                var p = ctx.Attrs.Get<int[,]>("paddings");
                if (p.GetLength(0) != s.Rank || p.GetLength(1) != 2)
                    throw ctx.Fail($"paddings must be [{s.Rank},2] (before and after each axis of {s}), got [{p.GetLength(0)},{p.GetLength(1)}]");
                var dims = new int[s.Rank];
                for (var k = 0; k < s.Rank; k++)
                {
                    if (p[k, 0] < 0 || p[k, 1] < 0) throw ctx.Fail($"paddings ({p[k, 0]}, {p[k, 1]}) on axis {k} of {s} must be ≥ 0");
                    dims[k] = s[k] < 0 ? -1 : ctx.Dim((long)s[k] + p[k, 0] + p[k, 1], $"axis {k} padded ({s[k]} + {p[k, 0]} + {p[k, 1]})");
                }
                return InferContext.One(new Shape(dims), ctx.DType(0));
            },
            Kernel = ctx =>
            {
                var (s, o) = (ctx.InputShape(0), ctx.OutputShape(0));
                var y = ctx.Output(0);
                var os = o.Strides();
                ctx.Backend.Fill(y, ctx.Attrs.Double("value"));
                ctx.Backend.Copy(Regions.Dense(ctx.Input(0), s), new StridedView(y, Regions.Offset(Before(ctx.Attrs), os), os), s.Span);
            },
            Gradient = g => g.Input(0).DType.IsFloating() ? [g.Graph.SliceLike(g.Grad(0)!.Value, g.Input(0), Before(g.Attrs))] : [null],
        },
        new OpDef
        {
            Type = "PadLike",
            Infer = ctx => Window(ctx, inner: ctx.Shape(0), outer: ctx.Shape(1)),
            Kernel = ctx =>
            {
                var (s, o) = (ctx.InputShape(0), ctx.OutputShape(0));
                var y = ctx.Output(0);
                var os = o.Strides();
                ctx.Backend.Fill(y, 0);
                ctx.Backend.Copy(Regions.Dense(ctx.Input(0), s), new StridedView(y, Regions.Offset(ctx.Attrs.Ints("begin"), os), os), s.Span);
            },
            Gradient = g => [g.Graph.SliceLike(g.Grad(0)!.Value, g.Input(0), g.Attrs.Ints("begin")), null],
        },
        new OpDef
        {
            Type = "SliceLike",
            Infer = ctx => Window(ctx, inner: ctx.Shape(1), outer: ctx.Shape(0)),
            Kernel = ctx =>
            {
                var (xs, o) = (ctx.InputShape(0).Strides(), ctx.OutputShape(0));
                ctx.Backend.Copy(new StridedView(ctx.Input(0), Regions.Offset(ctx.Attrs.Ints("begin"), xs), xs), Regions.Dense(ctx.Output(0), o), o.Span);
            },
            Gradient = g => [g.Graph.PadLike(g.Grad(0)!.Value, g.Input(0), g.Attrs.Ints("begin")), null],
        },
    ];

    private static int[] Before(Attributes attrs)
    {
        var p = attrs.Get<int[,]>("paddings");
        return Enumerable.Range(0, p.GetLength(0)).Select(k => p[k, 0]).ToArray();
    }

    /// <summary>
    /// Shape rule of PadLike and SliceLike: the box <paramref name="inner"/> placed at "begin" must
    /// fit inside <paramref name="outer"/>; the output has input 1's shape and input 0's dtype.
    /// </summary>
    private static OutputSpec[] Window(InferContext ctx, Shape inner, Shape outer)
    {
        var begin = ctx.Attrs.Ints("begin");
        if (inner.Rank != outer.Rank || begin.Length != inner.Rank)
            throw ctx.Fail($"a {inner} window at {Regions.Format(begin)} inside {outer}: ranks differ");
        for (var k = 0; k < begin.Length; k++)
        {
            if (begin[k] < 0) throw ctx.Fail($"begin {Regions.Format(begin)} is negative on axis {k}");
            if (inner[k] >= 0 && outer[k] >= 0 && (long)begin[k] + inner[k] > outer[k])
                throw ctx.Fail($"a {inner} window at {Regions.Format(begin)} does not fit inside {outer} on axis {k}");
        }
        return InferContext.One(ctx.Shape(1), ctx.DType(0));
    }
}

public sealed partial class Graph
{
    /// <summary>x[begin : begin + size] on every axis (tf.slice); a size of −1 takes everything to the end of that axis.</summary>
    /// <exception cref="ShapeException">begin/size have the wrong length, are negative, or the box does not fit.</exception>
    public Output Slice(Output x, int[] begin, int[] size, string? name = null) =>
        AddSingleOutput("Slice", [x], new Attributes().Set("begin", (int[])begin.Clone()).Set("size", (int[])size.Clone()), name);

    /// <summary>Pads with <paramref name="constantValue"/>: paddings[k, 0] before and paddings[k, 1] after axis k (tf.pad, constant mode).</summary>
    /// <exception cref="ShapeException">paddings is not [rank, 2] or has a negative entry, or a padded dimension or the output's element count exceeds 2^31-1.</exception>
    public Output Pad(Output x, int[,] paddings, double constantValue = 0, string? name = null) =>
        AddSingleOutput("Pad", [x], new Attributes().Set("paddings", (int[,])paddings.Clone()).Set("value", constantValue), name);

    /// <summary>Zeros shaped like <paramref name="like"/> with <paramref name="x"/> written at <paramref name="begin"/> (the gradient of a slice).</summary>
    internal Output PadLike(Output x, Output like, int[] begin, string? name = null) =>
        AddSingleOutput("PadLike", [x, like], new Attributes().Set("begin", (int[])begin.Clone()), name);

    /// <summary>The window of <paramref name="x"/> at <paramref name="begin"/> shaped like <paramref name="like"/> (the gradient of a pad).</summary>
    internal Output SliceLike(Output x, Output like, int[] begin, string? name = null) =>
        AddSingleOutput("SliceLike", [x, like], new Attributes().Set("begin", (int[])begin.Clone()), name);
}
