using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Reductions over any set of axes (null = all) with keepDims: sum, mean, max, min, prod, argmax,
/// argmin; variance, std and L2 norm are compositions. Shape rule "reduce".
/// </summary>
internal static class ReduceOps
{
    public static IEnumerable<OpDef> Defs()
    {
        yield return Reduce("Sum", ReduceOp.Sum, g =>
        {
            return g.Graph.BroadcastLike(KeepDims(g), g.Input(0));
        });
        yield return Reduce("Mean", ReduceOp.Mean, g =>
        {
            var gr = g.Graph;
            var x = g.Input(0);
            return gr.BroadcastLike(KeepDims(g), x) / gr.ReducedCount(x, g.Attrs.Get<int[]?>("axes", null), x.DType);
        });
        // Max/min: the gradient is shared equally among tied extrema (as TensorFlow).
        yield return Reduce("Max", ReduceOp.Max, ExtremumGradient);
        yield return Reduce("Min", ReduceOp.Min, ExtremumGradient);
        yield return Reduce("Prod", ReduceOp.Prod, g =>
        {
            // ∂Π/∂xᵢ = Π_{j≠i} xⱼ. Π/xᵢ gave NaN wherever xᵢ = 0 (TensorFlow's gradient is finite there), so
            // zeros are handled apart: with no zero in a group the entry is Π/xᵢ; with exactly one, the zero's
            // entry is the product of the others and the rest are 0; with two or more, every entry is 0.
            var gr = g.Graph;
            var x = g.Input(0);
            var axes = g.Attrs.Get<int[]?>("axes", null);
            var isZero = gr.Equal(x, gr.ZerosLike(x));
            var safe = gr.Select(isZero, gr.OnesLike(x), x);
            var zeros = gr.BroadcastLike(gr.ReduceSum(gr.Cast(isZero, x.DType), axes, keepDims: true), x);
            var nonZeroProduct = gr.BroadcastLike(gr.ReduceProd(safe, axes, keepDims: true), x);
            var onlyZeroHere = gr.LogicalAnd(isZero, gr.Equal(zeros, gr.OnesLike(zeros)));
            var partial = gr.Select(gr.Equal(zeros, gr.ZerosLike(zeros)), nonZeroProduct / safe,
                gr.Select(onlyZeroHere, nonZeroProduct, gr.ZerosLike(x)));
            return gr.BroadcastLike(KeepDims(g), x) * partial;
        });
        yield return ArgReduce("ArgMax", ReduceOp.ArgMax);
        yield return ArgReduce("ArgMin", ReduceOp.ArgMin);
        yield return new OpDef
        {
            Type = "ReducedCount",
            Infer = ctx =>
            {
                ShapeRules.ReduceAxes(ctx, ctx.Attrs.Get<int[]?>("axes", null), ctx.Shape(0).Rank);
                return InferContext.One(Shape.Scalar, ctx.Attrs.Get<DType>("dtype"));
            },
            Kernel = ctx =>
            {
                var s = ctx.InputShape(0);
                var axes = ctx.Attrs.Get<int[]?>("axes", null)?.Select(a => a < 0 ? a + s.Rank : a).Distinct() ?? Enumerable.Range(0, s.Rank);
                ctx.Backend.Fill(ctx.Output(0), axes.Aggregate(1.0, (acc, a) => acc * s[a]));
            },
            // The count depends on x's shape only, not its values.
            Gradient = _ => [null],
        };
    }

    /// <summary>Upstream gradient reshaped to keep the reduced axes as size 1.</summary>
    private static Output KeepDims(GradContext g) => KeepDimsOf(g, g.Grad(0)!.Value);

    private static Output KeepDimsOf(GradContext g, Output v)
    {
        if (g.Attrs.Bool("keep_dims")) return v;
        var rank = g.Input(0).Shape.Rank;
        var axes = g.Attrs.Get<int[]?>("axes", null)?.Select(a => a < 0 ? a + rank : a).Distinct().Order().ToArray() ?? Enumerable.Range(0, rank).ToArray();
        foreach (var a in axes) v = g.Graph.ExpandDims(v, a);
        return v;
    }

    private static Output ExtremumGradient(GradContext g)
    {
        var gr = g.Graph;
        var x = g.Input(0);
        var y = gr.BroadcastLike(KeepDimsOf(g, g.Result(0)), x);
        var mask = gr.Cast(gr.Equal(x, y), x.DType);
        var ties = gr.BroadcastLike(gr.ReduceSum(mask, g.Attrs.Get<int[]?>("axes", null), keepDims: true), x);
        return gr.BroadcastLike(KeepDims(g), x) * mask / ties;
    }

    private static OpDef Reduce(string type, ReduceOp op, Func<GradContext, Output> grad) => new()
    {
        Type = type,
        Infer = ctx =>
        {
            // Sum/Max/Min/Prod accept integers (wrapping on overflow, as TensorFlow); Mean stays floating so it never truncates silently.
            if (op == ReduceOp.Mean) ctx.RequireFloating(0);
            else ctx.RequireNumeric(0);
            var axes = ShapeRules.ReduceAxes(ctx, ctx.Attrs.Get<int[]?>("axes", null), ctx.Shape(0).Rank);
            return InferContext.One(ShapeRules.Reduced(ctx.Shape(0), axes, ctx.Attrs.Bool("keep_dims")), ctx.DType(0));
        },
        Prepare = ctx => ReduceLowering.PrepareWorkspace(ctx, ctx.InputDType(0), ctx.InputShape(0), NormalizedAxes(ctx.Attrs.Get<int[]?>("axes", null), ctx.InputShape(0).Rank)),
        Kernel = ctx =>
        {
            var s = ctx.InputShape(0);
            var axes = NormalizedAxes(ctx.Attrs.Get<int[]?>("axes", null), s.Rank);
            ReduceLowering.Reduce(ctx, op, ctx.Input(0), s, axes, ctx.Output(0));
        },
        // Integer reductions are piecewise constant in their (integer) input: no gradient flows back.
        Gradient = g => g.Input(0).DType.IsFloating() ? [grad(g)] : [null],
    };

    private static OpDef ArgReduce(string type, ReduceOp op) => new()
    {
        Type = type,
        Infer = ctx =>
        {
            ctx.RequireNumeric(0);
            var s = ctx.Shape(0);
            if (s.Rank == 0) throw ctx.Fail("needs rank ≥ 1, got a scalar");
            var axis = ctx.Axis(ctx.Attrs.Int("axis"), s.Rank);
            if (s[axis] == 0) throw ctx.Fail($"axis {axis} of {s} is empty: no index to return");
            return InferContext.One(ShapeRules.Reduced(s, [axis], false), DType.Int64);
        },
        Kernel = ctx =>
        {
            var s = ctx.InputShape(0);
            var axis = ctx.Attrs.Int("axis");
            axis = axis < 0 ? axis + s.Rank : axis;
            if (s[axis] == 0) throw new InvalidArgumentException($"{ctx.Op}: axis {axis} of {s} is empty");
            // The output slot must be filled even when it is empty (e.g. [0,3] along axis 1): returning
            // before Output(0) left the slot null and the fetch crashed with a NullReferenceException.
            var y = ctx.Output(0);
            if (s.Size == 0) return;
            int outer = 1, inner = 1;
            for (var d = 0; d < axis; d++) outer *= s[d];
            for (var d = axis + 1; d < s.Rank; d++) inner *= s[d];
            ctx.Backend.Reduce(op, ctx.Input(0), outer, s[axis], inner, y);
        },
        NotDifferentiable = $"{type} returns integer indices",
    };

    internal static int[] NormalizedAxes(int[]? axes, int rank) =>
        axes?.Select(a => a < 0 ? a + rank : a).Distinct().Order().ToArray() ?? Enumerable.Range(0, rank).ToArray();
}

public sealed partial class Graph
{
    private Output ReduceNode(string type, Output x, int[]? axes, bool keepDims, string? name) =>
        AddSingleOutput(type, [x], new Attributes().Set("axes", axes!).Set("keep_dims", keepDims), name ?? type);

    /// <summary>Σ over <paramref name="axes"/> (null = all; negative axes count from the end).</summary>
    public Output ReduceSum(Output x, int[]? axes = null, bool keepDims = false, string? name = null) => ReduceNode("Sum", x, axes, keepDims, name);
    /// <summary>Σ over one axis.</summary>
    public Output ReduceSum(Output x, int axis, bool keepDims = false, string? name = null) => ReduceSum(x, [axis], keepDims, name);
    /// <summary>Mean over axes (NaN over an empty axis).</summary>
    public Output ReduceMean(Output x, int[]? axes = null, bool keepDims = false, string? name = null) => ReduceNode("Mean", x, axes, keepDims, name);
    /// <summary>Mean over one axis.</summary>
    public Output ReduceMean(Output x, int axis, bool keepDims = false, string? name = null) => ReduceMean(x, [axis], keepDims, name);
    /// <summary>Maximum over axes (−∞ over an empty axis; NaN propagates).</summary>
    public Output ReduceMax(Output x, int[]? axes = null, bool keepDims = false, string? name = null) => ReduceNode("Max", x, axes, keepDims, name);
    /// <summary>Minimum over axes (+∞ over an empty axis; NaN propagates).</summary>
    public Output ReduceMin(Output x, int[]? axes = null, bool keepDims = false, string? name = null) => ReduceNode("Min", x, axes, keepDims, name);
    /// <summary>Product over axes (1 over an empty axis).</summary>
    public Output ReduceProd(Output x, int[]? axes = null, bool keepDims = false, string? name = null) => ReduceNode("Prod", x, axes, keepDims, name);

    /// <summary>Index (int64) of the first maximum along <paramref name="axis"/>.</summary>
    public Output ArgMax(Output x, int axis = -1, string? name = null) => AddSingleOutput("ArgMax", [x], new Attributes().Set("axis", axis), name);
    /// <summary>Index (int64) of the first minimum along <paramref name="axis"/>.</summary>
    public Output ArgMin(Output x, int axis = -1, string? name = null) => AddSingleOutput("ArgMin", [x], new Attributes().Set("axis", axis), name);

    /// <summary>Number of elements reduced over <paramref name="axes"/>, as a scalar of <paramref name="dtype"/>, from x's run-time shape.</summary>
    public Output ReducedCount(Output x, int[]? axes, DType dtype, string? name = null) =>
        AddSingleOutput("ReducedCount", [x], new Attributes().Set("axes", axes!).Set("dtype", dtype), name);

    /// <summary>Population variance E[(x − E[x])²] over axes (tf.math.reduce_variance).</summary>
    public Output ReduceVariance(Output x, int[]? axes = null, bool keepDims = false, string? name = null)
    {
        using (NameScope(name ?? "reduce_variance"))
        {
            var mean = ReduceMean(x, axes, keepDims: true);
            return ReduceMean(Square(x - mean), axes, keepDims);
        }
    }

    /// <summary>Population standard deviation over axes.</summary>
    public Output ReduceStd(Output x, int[]? axes = null, bool keepDims = false, string? name = null)
    {
        using (NameScope(name ?? "reduce_std"))
            return Sqrt(ReduceVariance(x, axes, keepDims));
    }

    /// <summary>Euclidean norm √Σx² over axes (tf.norm with ord 2 over a vector axis set). Its gradient is NaN at x = 0.</summary>
    public Output L2Norm(Output x, int[]? axes = null, bool keepDims = false, string? name = null)
    {
        using (NameScope(name ?? "norm"))
            return Sqrt(ReduceSum(Square(x), axes, keepDims));
    }
}
