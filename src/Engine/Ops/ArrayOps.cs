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
                if (s[axis] >= 0 && sizes.All(n => n >= 0) && sizes.Sum(n => (long)n) != s[axis])
                    throw ctx.Fail($"sizes [{string.Join(",", sizes)}] along axis {axis} add up to {sizes.Sum(n => (long)n)}, but {s} has {s[axis]}");
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
                return InferContext.One(new Shape(s.Select((d, k) => m[k] == 0 ? 0 : d < 0 ? -1 : ctx.Dim((long)d * m[k], $"axis {k} tiled ({d}·{m[k]})")).ToArray()), ctx.DType(0));
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
                    if (dy[k] >= 0 && x[k] >= 0 && dy[k] != (long)x[k] * m[k])
                        throw ctx.Fail($"gradient {dy} is not input {x} tiled by [{string.Join(",", m)}] (axis {k}: {dy[k]} vs {x[k]}·{m[k]})");
                return InferContext.One(x, ctx.DType(0));
            },
            Prepare = ctx =>
            {
                var (view, axes) = TileGradView(ctx.InputShape(1), ctx.Attrs.Ints("multiples"));
                ReduceLowering.PrepareWorkspace(ctx, ctx.InputDType(0), view, axes);
            },
            Kernel = ctx =>
            {
                var (view, axes) = TileGradView(ctx.InputShape(1), ctx.Attrs.Ints("multiples"));
                ReduceLowering.Reduce(ctx, ReduceOp.Sum, ctx.Input(0), view, axes, ctx.Output(0));
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
                if (d == axis) dims[d] = dims[d] < 0 || s[d] < 0 ? -1 : ctx.Dim((long)dims[d] + s[d], $"the concatenated axis {axis} (sum up to input {i})");
                else if (dims[d] < 0) dims[d] = s[d];
                else if (s[d] >= 0 && s[d] != dims[d]) throw ctx.Fail($"input {i} differs on axis {d} (concat axis {axis}): {dims[d]} vs {s[d]} (inputs: {all})");
            }
        }
        return InferContext.One(new Shape(dims), ctx.DType(0));
    }

    /// <summary>The most outputs one Split may have (each output is a node output with its own shape).</summary>
    public const int MaxSplitOutputs = 1 << 16;

    /// <summary>Per-output size along the axis (−1 where the input's size is unknown) from num_split or sizes.</summary>
    private static int[] SplitSizes(InferContext ctx, Shape s, int axis)
    {
        var d = s[axis];
        var sizes = ctx.Attrs.Get<int[]?>("sizes", null);
        if (sizes is null)
        {
            var n = ctx.Attrs.Int("num_split");
            if (n < 1) throw ctx.Fail($"num_split must be at least 1, got {n}");
            // Checked before the per-output arrays below are made: their length is this attribute.
            if (n > MaxSplitOutputs) throw ctx.Fail($"num_split {n} is more than the {MaxSplitOutputs} outputs a split may have");
            if (d >= 0 && d % n != 0) throw ctx.Fail($"axis {axis} of {s} has size {d}, which does not split into {n} equal pieces");
            return Enumerable.Repeat(d < 0 ? -1 : d / n, n).ToArray();
        }
        var text = $"[{string.Join(",", sizes)}]";
        if (sizes.Length == 0) throw ctx.Fail("sizes must name at least one piece");
        if (sizes.Length > MaxSplitOutputs) throw ctx.Fail($"sizes name {sizes.Length} pieces, more than the {MaxSplitOutputs} outputs a split may have");
        if (sizes.Any(z => z < -1)) throw ctx.Fail($"sizes {text} must be ≥ 0 (or one −1)");
        if (sizes.Count(z => z == -1) > 1) throw ctx.Fail($"only one size may be -1, got {text}");
        var known = sizes.Where(z => z >= 0).Sum(z => (long)z);
        var r = (int[])sizes.Clone();
        var inferred = Array.IndexOf(sizes, -1);
        if (d < 0) return r;
        if (inferred < 0 && known != d) throw ctx.Fail($"sizes {text} add up to {known}, but axis {axis} of {s} has size {d}");
        if (inferred >= 0)
        {
            if (known > d) throw ctx.Fail($"sizes {text} add up to {known}, more than the size {d} of axis {axis} of {s}");
            r[inferred] = (int)(d - known);
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

public sealed partial class Graph
{
    /// <summary>Joins <paramref name="values"/> along an existing axis (tf.concat): same rank and dtype, equal sizes on every other axis.</summary>
    /// <exception cref="ShapeException">No values, ranks, dtypes or other axes differ, or the axis is out of range.</exception>
    public Output Concat(Output[] values, int axis, string? name = null) => AddSingleOutput("Concat", (Output[])values.Clone(), new Attributes().Set("axis", axis), name);

    /// <summary>Cuts x into <paramref name="numSplit"/> equal pieces along <paramref name="axis"/> (tf.split with a count).</summary>
    /// <exception cref="ShapeException">The axis size is not divisible by <paramref name="numSplit"/> (checked again when the plan runs if it is unknown), or <paramref name="numSplit"/> is below 1 or above 65,536.</exception>
    public Output[] Split(Output x, int numSplit, int axis = 0, string? name = null) =>
        AddOp("Split", [x], new Attributes().Set("num_split", numSplit).Set("axis", axis), name).Outputs;

    /// <summary>Cuts x into pieces of the given sizes along <paramref name="axis"/>; one size may be −1 (the rest).</summary>
    /// <exception cref="ShapeException">Sizes are negative, more than one is −1, they do not add up to the axis size, or there are more than 65,536 of them.</exception>
    public Output[] Split(Output x, int[] sizes, int axis = 0, string? name = null) =>
        AddOp("Split", [x], new Attributes().Set("sizes", (int[])sizes.Clone()).Set("axis", axis), name).Outputs;

    /// <summary>Joins equally shaped values along a new axis (tf.stack): rank r inputs give a rank r + 1 output; <paramref name="axis"/> ∈ [−(r+1), r].</summary>
    /// <remarks>A composite: each value gets a size-1 axis (ExpandDims), then one Concat joins them.</remarks>
    /// <exception cref="ArgumentException">A value is <c>default(Output)</c>.</exception>
    public Output Stack(Output[] values, int axis = 0, string? name = null)
    {
        var node = name ?? "stack";
        RequireArguments(values, "Stack", nameof(values));
        if (values.Length == 0) throw new ShapeException($"Stack '{node}': needs at least one value");
        var first = values[0];
        var rank = first.Shape.Rank;
        if (axis < -(rank + 1) || axis > rank) throw new ShapeException($"Stack '{node}': axis {axis} is out of range for stacking rank-{rank} values (valid: {-(rank + 1)}..{rank})");
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i].DType != first.DType || !values[i].Shape.IsCompatibleWith(first.Shape))
                throw new ShapeException($"Stack '{node}': value {i} is {values[i].DType.Name()} {values[i].Shape}, value 0 is {first.DType.Name()} {first.Shape}; all must match");
        }
        using (NameScope(node))
            return Concat(values.Select(v => ExpandDims(v, axis)).ToArray(), axis);
    }

    /// <summary>Splits x along <paramref name="axis"/> into its x.Shape[axis] slices, each without that axis (tf.unstack).</summary>
    /// <remarks>A composite of Split and Squeeze. The size of the axis must be known when the graph is built: it is the number of outputs.</remarks>
    public Output[] Unstack(Output x, int axis = 0, string? name = null)
    {
        var node = name ?? "unstack";
        RequireArgument(x, "Unstack", nameof(x));
        var s = x.Shape;
        if (s.Rank == 0) throw new ShapeException($"Unstack '{node}': cannot unstack the scalar '{x.Name}'");
        var a = s.NormalizeAxis(axis);
        if (a < 0) throw new ShapeException($"Unstack '{node}': axis {axis} is out of range for {s} (valid: {-s.Rank}..{s.Rank - 1})");
        if (s[a] < 0) throw new ShapeException($"Unstack '{node}': axis {a} of {s} is unknown, but the number of outputs must be known when the graph is built");
        if (s[a] > ArrayOps.MaxSplitOutputs) throw new ShapeException($"Unstack '{node}': axis {a} of {s} has {s[a]} slices, more than the {ArrayOps.MaxSplitOutputs} outputs a split may have");
        if (s[a] == 0) return [];
        using (NameScope(node))
            return Split(x, s[a], a).Select(p => Squeeze(p, [a])).ToArray();
    }

    /// <summary>Repeats x <paramref name="multiples"/>[k] times along each axis k (tf.tile).</summary>
    /// <exception cref="ShapeException">Multiples are negative or do not match x's rank, or a tiled dimension or the output's element count exceeds 2^31-1.</exception>
    public Output Tile(Output x, int[] multiples, string? name = null) =>
        AddSingleOutput("Tile", [x], new Attributes().Set("multiples", (int[])multiples.Clone()), name);

    /// <summary>Broadcasts x to the fully known <paramref name="shape"/> by NumPy rules (tf.broadcast_to); the result is exactly that shape.</summary>
    /// <exception cref="ShapeException">x does not broadcast to <paramref name="shape"/>, or the shape has more than 2^31-1 elements.</exception>
    public Output BroadcastTo(Output x, Shape shape, string? name = null) =>
        AddSingleOutput("BroadcastTo", [x], new Attributes().Set("shape", shape), name);

    /// <summary>
    /// One-hot rows (tf.one_hot, last axis): output[..., j] = <paramref name="on"/> where indices[...] == j, else
    /// <paramref name="off"/>; shape indices.shape + [depth]. An index outside [0, depth) gives a row of all
    /// <paramref name="off"/>, as in TensorFlow. Not differentiable with respect to the (integer) indices.
    /// </summary>
    /// <remarks>
    /// A composite: Equal(indices[..., newaxis], 0..depth−1) selects between two scalars. The positions
    /// 0..depth−1 are a constant made when the graph is built, so <paramref name="depth"/> is limited to
    /// <see cref="MaxOneHotDepth"/> (2^24; 64 MiB of int32).
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="indices"/> is <c>default(Output)</c>.</exception>
    /// <exception cref="ShapeException">Indices are not integers, depth is negative or above <see cref="MaxOneHotDepth"/>, or the output would have more than 2^31-1 elements.</exception>
    public Output OneHot(Output indices, int depth, double on = 1, double off = 0, DType dtype = DType.Float32, string? name = null)
    {
        var node = name ?? "one_hot";
        RequireArgument(indices, "OneHot", nameof(indices));
        if (!indices.DType.IsInteger()) throw new ShapeException($"OneHot '{node}': indices must be int32 or int64, got {indices.DType.Name()} {indices.Shape}");
        if (depth < 0) throw new ShapeException($"OneHot '{node}': depth must be ≥ 0, got {depth}");
        if (depth > MaxOneHotDepth) throw new ShapeException($"OneHot '{node}': depth {depth} is more than {MaxOneHotDepth} (the positions 0..depth-1 are a build-time constant)");
        var known = new Shape([.. indices.Shape.Select(d => d < 0 ? 1 : d), depth]).ElementCount;
        if (known > Shape.MaxElements) throw new ShapeException($"OneHot '{node}': output {indices.Shape} + [{depth}] would have more than 2^31-1 elements");
        using (NameScope(node))
        {
            var positions = Constant(Tensor.Range(0, depth, 1, indices.DType), "depth_range");
            return Select(Equal(ExpandDims(indices, -1), positions), Scalar(on, dtype, "on_value"), Scalar(off, dtype, "off_value"));
        }
    }

    /// <summary>The largest depth <see cref="OneHot"/> accepts: 2^24 classes.</summary>
    public const int MaxOneHotDepth = 1 << 24;

    /// <summary>x cut along <paramref name="axis"/> into pieces as long as each of <paramref name="likes"/> is along that axis at run time.</summary>
    internal Output[] SplitLike(Output x, Output[] likes, int axis, string? name = null) =>
        AddOp("SplitLike", [x, .. likes], new Attributes().Set("axis", axis), name).Outputs;

    /// <summary>Sums the tiles of <paramref name="dy"/> back onto x's shape (the gradient of a tile).</summary>
    internal Output TileGrad(Output dy, Output x, int[] multiples, string? name = null) =>
        AddSingleOutput("TileGrad", [dy, x], new Attributes().Set("multiples", (int[])multiples.Clone()), name);
}
