using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Ops that join, cut and repeat whole regions: concat, split (and SplitLike, its run-time-sized
/// twin used by concat's gradient), tile (and TileGrad) and broadcast_to. Every kernel is one
/// strided <see cref="IBackend.Copy"/> per region: a region of the output is a view with the
/// output's strides starting at an element offset. Slices and pads live in SliceOps, gathers in
/// IndexOps.
/// </summary>
internal static class ArrayOps
{
    public static IEnumerable<OpDef> Defs() =>
    [
        new OpDef
        {
            Type = "Concat",
            Infer = InferConcat,
            Kernel = ctx =>
            {
                var outShape = ctx.OutputShape(0);
                var axis = Regions.Norm(ctx.Attrs.Int("axis"), outShape.Rank);
                var y = ctx.Output(0);
                var ys = outShape.Strides();
                var at = 0;
                for (var i = 0; i < ctx.NumInputs; i++)
                {
                    var s = ctx.InputShape(i);
                    ctx.Backend.Copy(Regions.Dense(ctx.Input(i), s), new StridedView(y, at * ys[axis], ys), s.Span);
                    at += s[axis];
                }
            },
            // Run-time sizes: SplitLike cuts dy at the inputs' actual extents, so unknown dims work.
            Gradient = g => g.Input(0).DType.IsFloating()
                ? g.Graph.SplitLike(g.Grad(0)!.Value, g.Op.Inputs.ToArray(), g.Attrs.Int("axis")).Select(o => (Output?)o).ToArray()
                : new Output?[g.Op.Inputs.Count],
        },
        new OpDef
        {
            Type = "Split",
            Infer = ctx =>
            {
                var s = RequireRanked(ctx, 0);
                var axis = ctx.Axis(ctx.Attrs.Int("axis"), s.Rank);
                return SplitSizes(ctx, s, axis).Select(n => new OutputSpec(Regions.WithDim(s, axis, n), ctx.DType(0))).ToArray();
            },
            Kernel = SplitKernel,
            Gradient = g => [ConcatGrads(g)],
        },
        new OpDef
        {
            Type = "SplitLike",
            Infer = ctx =>
            {
                if (ctx.NumInputs < 2) throw ctx.Fail("needs the tensor to split and at least one tensor to take sizes from");
                var s = RequireRanked(ctx, 0);
                var axis = ctx.Axis(ctx.Attrs.Int("axis"), s.Rank);
                var sizes = new int[ctx.NumInputs - 1];
                for (var i = 1; i < ctx.NumInputs; i++)
                {
                    if (ctx.Shape(i).Rank != s.Rank) throw ctx.Fail($"input {i} {ctx.Shape(i)} has rank {ctx.Shape(i).Rank}, the split tensor {s} has rank {s.Rank}");
                    sizes[i - 1] = ctx.Shape(i)[axis];
                }
                if (s[axis] >= 0 && sizes.All(n => n >= 0) && sizes.Sum() != s[axis])
                    throw ctx.Fail($"sizes [{string.Join(",", sizes)}] along axis {axis} add up to {sizes.Sum()}, but {s} has {s[axis]}");
                return sizes.Select(n => new OutputSpec(Regions.WithDim(s, axis, n), ctx.DType(0))).ToArray();
            },
            Kernel = SplitKernel,
            Gradient = g => [ConcatGrads(g), .. new Output?[g.Op.Inputs.Count - 1]],
        },
        new OpDef
        {
            Type = "Tile",
            Infer = ctx =>
            {
                var s = ctx.Shape(0);
                var m = Multiples(ctx, s);
                return InferContext.One(new Shape(s.Select((d, k) => m[k] == 0 ? 0 : d < 0 ? -1 : d * m[k]).ToArray()), ctx.DType(0));
            },
            Kernel = ctx =>
            {
                // View the output as [m₀, d₀, m₁, d₁, …]: the source repeats (stride 0) along every mₖ.
                var (s, o) = (ctx.InputShape(0), ctx.OutputShape(0));
                var m = ctx.Attrs.Ints("multiples");
                var (shape, src, dst) = (new int[2 * s.Rank], new int[2 * s.Rank], new int[2 * s.Rank]);
                var (ss, os) = (s.Strides(), o.Strides());
                for (var k = 0; k < s.Rank; k++)
                {
                    (shape[2 * k], src[2 * k], dst[2 * k]) = (m[k], 0, s[k] * os[k]);
                    (shape[2 * k + 1], src[2 * k + 1], dst[2 * k + 1]) = (s[k], ss[k], os[k]);
                }
                ctx.Backend.Copy(new StridedView(ctx.Input(0), 0, src), new StridedView(ctx.Output(0), 0, dst), shape);
            },
            Gradient = g => g.Input(0).DType.IsFloating() ? [g.Graph.TileGrad(g.Grad(0)!.Value, g.Input(0), g.Attrs.Ints("multiples"))] : [null],
        },
        new OpDef
        {
            Type = "TileGrad",
            Infer = ctx =>
            {
                ctx.RequireFloating(0);
                var (dy, x) = (ctx.Shape(0), ctx.Shape(1));
                if (dy.Rank != x.Rank) throw ctx.Fail($"gradient {dy} and input {x} differ in rank");
                var m = Multiples(ctx, x);
                for (var k = 0; k < x.Rank; k++)
                    if (dy[k] >= 0 && x[k] >= 0 && dy[k] != x[k] * m[k])
                        throw ctx.Fail($"gradient {dy} is not input {x} tiled by [{string.Join(",", m)}] (axis {k}: {dy[k]} vs {x[k]}·{m[k]})");
                return InferContext.One(x, ctx.DType(0));
            },
            Prepare = ctx =>
            {
                var (view, axes) = TileGradView(ctx.InputShape(1), ctx.Attrs.Ints("multiples"));
                ReduceKernels.PrepareWorkspace(ctx, ctx.InputDType(0), view, axes);
            },
            Kernel = ctx =>
            {
                var (view, axes) = TileGradView(ctx.InputShape(1), ctx.Attrs.Ints("multiples"));
                ReduceKernels.Reduce(ctx, ReduceOp.Sum, ctx.Input(0), view, axes, ctx.Output(0));
            },
            Gradient = g => [g.Graph.Tile(g.Grad(0)!.Value, g.Attrs.Ints("multiples")), null],
        },
        new OpDef
        {
            Type = "BroadcastTo",
            Infer = ctx =>
            {
                var (s, t) = (ctx.Shape(0), ctx.Attrs.Get<Shape>("shape"));
                if (!t.IsFullyDefined) throw ctx.Fail($"target shape {t} must be fully defined (use BroadcastLike for a run-time shape)");
                if (s.Rank > t.Rank) throw ctx.Fail($"cannot broadcast {s} to the lower-rank shape {t}");
                for (var k = 0; k < s.Rank; k++)
                {
                    var (d, td) = (s[k], t[k + t.Rank - s.Rank]);
                    if (d != 1 && d != -1 && d != td) throw ctx.Fail($"cannot broadcast {s} to {t}: axis {k} has size {d}, needs 1 or {td}");
                }
                return InferContext.One(t, ctx.DType(0));
            },
            Prepare = ctx => { if (ctx.InputShape(0) == ctx.OutputShape(0)) ctx.AliasOutput(0, 0); },
            Kernel = ctx =>
            {
                var (s, t) = (ctx.InputShape(0), ctx.OutputShape(0));
                if (s == t) { ctx.AliasInput(0, 0); return; }
                ctx.Backend.Copy(ShapeRules.View(ctx.Input(0), s, t), Regions.Dense(ctx.Output(0), t), t.Span);
            },
            Gradient = g => g.Input(0).DType.IsFloating() ? [g.Graph.SumToShape(g.Grad(0)!.Value, g.Input(0))] : [null],
        },
    ];

    /// <summary>TileGrad reads dy as [m₀, d₀, m₁, d₁, …] (a free reinterpretation of a dense buffer) and sums over the mₖ axes.</summary>
    private static (Shape View, int[] Axes) TileGradView(Shape x, int[] multiples)
    {
        var view = new int[2 * x.Rank];
        for (var k = 0; k < x.Rank; k++) (view[2 * k], view[2 * k + 1]) = (multiples[k], x[k]);
        return (new Shape(view), Enumerable.Range(0, x.Rank).Select(k => 2 * k).ToArray());
    }

    /// <summary>Same rank and dtype everywhere, other axes equal (unknown matches anything); the axis sizes add up.</summary>
    private static OutputSpec[] InferConcat(InferContext ctx)
    {
        if (ctx.NumInputs == 0) throw ctx.Fail("needs at least one input");
        var first = RequireRanked(ctx, 0);
        var axis = ctx.Axis(ctx.Attrs.Int("axis"), first.Rank);
        var all = string.Join(", ", Enumerable.Range(0, ctx.NumInputs).Select(i => $"{ctx.DType(i).Name()} {ctx.Shape(i)}"));
        var dims = first.ToArray();
        for (var i = 1; i < ctx.NumInputs; i++)
        {
            var s = ctx.Shape(i);
            if (ctx.DType(i) != ctx.DType(0)) throw ctx.Fail($"input {i} has dtype {ctx.DType(i).Name()}, input 0 has {ctx.DType(0).Name()} (inputs: {all})");
            if (s.Rank != first.Rank) throw ctx.Fail($"input {i} has rank {s.Rank}, input 0 has rank {first.Rank} (inputs: {all})");
            for (var d = 0; d < s.Rank; d++)
            {
                if (d == axis) dims[d] = dims[d] < 0 || s[d] < 0 ? -1 : dims[d] + s[d];
                else if (dims[d] < 0) dims[d] = s[d];
                else if (s[d] >= 0 && s[d] != dims[d]) throw ctx.Fail($"input {i} differs on axis {d} (concat axis {axis}): {dims[d]} vs {s[d]} (inputs: {all})");
            }
        }
        return InferContext.One(new Shape(dims), ctx.DType(0));
    }

    /// <summary>Per-output size along the axis (−1 where the input's size is unknown) from num_split or sizes.</summary>
    private static int[] SplitSizes(InferContext ctx, Shape s, int axis)
    {
        var d = s[axis];
        var sizes = ctx.Attrs.Get<int[]?>("sizes", null);
        if (sizes is null)
        {
            var n = ctx.Attrs.Int("num_split");
            if (n < 1) throw ctx.Fail($"num_split must be at least 1, got {n}");
            if (d >= 0 && d % n != 0) throw ctx.Fail($"axis {axis} of {s} has size {d}, which does not split into {n} equal pieces");
            return Enumerable.Repeat(d < 0 ? -1 : d / n, n).ToArray();
        }
        var text = $"[{string.Join(",", sizes)}]";
        if (sizes.Length == 0) throw ctx.Fail("sizes must name at least one piece");
        if (sizes.Any(z => z < -1)) throw ctx.Fail($"sizes {text} must be ≥ 0 (or one −1)");
        if (sizes.Count(z => z == -1) > 1) throw ctx.Fail($"only one size may be -1, got {text}");
        var known = sizes.Where(z => z >= 0).Sum();
        var r = (int[])sizes.Clone();
        var inferred = Array.IndexOf(sizes, -1);
        if (d < 0) return r;
        if (inferred < 0 && known != d) throw ctx.Fail($"sizes {text} add up to {known}, but axis {axis} of {s} has size {d}");
        if (inferred >= 0)
        {
            if (known > d) throw ctx.Fail($"sizes {text} add up to {known}, more than the size {d} of axis {axis} of {s}");
            r[inferred] = d - known;
        }
        return r;
    }

    private static int[] Multiples(InferContext ctx, Shape s)
    {
        var m = ctx.Attrs.Ints("multiples");
        if (m.Length != s.Rank) throw ctx.Fail($"multiples [{string.Join(",", m)}] has {m.Length} entries for input {s} of rank {s.Rank}");
        if (m.Any(v => v < 0)) throw ctx.Fail($"multiples [{string.Join(",", m)}] must be ≥ 0");
        return m;
    }

    private static Shape RequireRanked(InferContext ctx, int i) =>
        ctx.Shape(i).Rank > 0 ? ctx.Shape(i) : throw ctx.Fail($"input {i} is a scalar; it has no axis to work along");

    /// <summary>Output k is the window of input 0 that starts where output k−1 ended along the axis.</summary>
    private static void SplitKernel(KernelContext ctx)
    {
        var s = ctx.InputShape(0);
        var axis = Regions.Norm(ctx.Attrs.Int("axis"), s.Rank);
        var xs = s.Strides();
        var at = 0;
        for (var k = 0; k < ctx.Op.NumOutputs; k++)
        {
            var o = ctx.OutputShape(k);
            ctx.Backend.Copy(new StridedView(ctx.Input(0), at * xs[axis], xs), Regions.Dense(ctx.Output(k), o), o.Span);
            at += o[axis];
        }
    }

    /// <summary>The gradient of any split: dy of every output concatenated back, zeros for outputs nothing depends on.</summary>
    private static Output? ConcatGrads(GradContext g)
    {
        if (!g.Input(0).DType.IsFloating()) return null;
        return g.Graph.Concat(Enumerable.Range(0, g.Op.NumOutputs).Select(g.GradOrZeros).ToArray(), g.Attrs.Int("axis"));
    }
}

/// <summary>Small helpers shared by the region-copy kernels.</summary>
internal static class Regions
{
    public static int Norm(int axis, int rank) => axis < 0 ? axis + rank : axis;

    /// <summary>A dense row-major view of a whole buffer.</summary>
    public static StridedView Dense(DeviceBuffer buffer, Shape shape) => new(buffer, 0, shape.Strides());

    /// <summary>Element offset of the multi-index <paramref name="begin"/> under <paramref name="strides"/>.</summary>
    public static int Offset(int[] begin, int[] strides)
    {
        var o = 0;
        for (var k = 0; k < begin.Length; k++) o += begin[k] * strides[k];
        return o;
    }

    public static Shape WithDim(Shape s, int axis, int size)
    {
        var d = s.ToArray();
        d[axis] = size;
        return new Shape(d);
    }

    public static string Format(int[] v) => "[" + string.Join(",", v) + "]";
}
