using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Views that only reinterpret dimensions (reshape, expand_dims, squeeze: no copy, the output
/// shares the input's buffer) and transpose (a strided copy).
/// </summary>
internal static class ShapeOps
{
    public static IEnumerable<OpDef> Defs() =>
    [
        new OpDef
        {
            Type = "Reshape",
            Infer = ctx => InferContext.One(ReshapeTarget(ctx, ctx.Shape(0), ctx.Attrs.Ints("shape")), ctx.DType(0)),
            Prepare = ctx => ctx.AliasOutput(0, 0),
            Kernel = ctx => ctx.AliasInput(0, 0),
            Gradient = g => [g.Graph.ReshapeLike(g.Grad(0)!.Value, g.Input(0))],
        },
        new OpDef
        {
            Type = "ReshapeLike",
            Infer = ctx =>
            {
                int a = ctx.Shape(0).Size, b = ctx.Shape(1).Size;
                if (a >= 0 && b >= 0 && a != b) throw ctx.Fail($"cannot reshape {ctx.Shape(0)} ({a} elements) like {ctx.Shape(1)} ({b} elements)");
                return InferContext.One(ctx.Shape(1), ctx.DType(0));
            },
            Prepare = ctx => ctx.AliasOutput(0, 0),
            Kernel = ctx => ctx.AliasInput(0, 0),
            Gradient = g => [g.Graph.ReshapeLike(g.Grad(0)!.Value, g.Input(0)), null],
        },
        new OpDef
        {
            Type = "ExpandDims",
            Infer = ctx =>
            {
                var s = ctx.Shape(0);
                var axis = ctx.Axis(ctx.Attrs.Int("axis"), s.Rank + 1);
                var dims = s.ToList();
                dims.Insert(axis, 1);
                return InferContext.One(new Shape(dims.ToArray()), ctx.DType(0));
            },
            Prepare = ctx => ctx.AliasOutput(0, 0),
            Kernel = ctx => ctx.AliasInput(0, 0),
            Gradient = g => [g.Graph.ReshapeLike(g.Grad(0)!.Value, g.Input(0))],
        },
        new OpDef
        {
            Type = "Squeeze",
            Infer = ctx =>
            {
                var s = ctx.Shape(0);
                // The builder resolves "all size-1 axes" against the static shape; re-inferring that
                // rule with run-time dims would drop unknown dims that happen to be 1 and change the rank.
                var axes = ctx.Attrs.Ints("axes").Select(a => ctx.Axis(a, s.Rank)).ToArray();
                foreach (var a in axes)
                    if (s[a] != 1 && s[a] != -1) throw ctx.Fail($"cannot squeeze axis {a} of {s}: its size is {s[a]}, not 1");
                return InferContext.One(new Shape(Enumerable.Range(0, s.Rank).Where(d => !axes.Contains(d)).Select(d => s[d]).ToArray()), ctx.DType(0));
            },
            Prepare = ctx => { if (ctx.InputShape(0).Size == ctx.OutputShape(0).Size) ctx.AliasOutput(0, 0); },
            Kernel = ctx =>
            {
                if (ctx.InputShape(0).Size != ctx.OutputShape(0).Size) throw new InvalidArgumentException($"{ctx.Op}: a squeezed axis of {ctx.InputShape(0)} is not 1");
                ctx.AliasInput(0, 0);
            },
            Gradient = g => [g.Graph.ReshapeLike(g.Grad(0)!.Value, g.Input(0))],
        },
        new OpDef
        {
            Type = "Transpose",
            Infer = ctx =>
            {
                var s = ctx.Shape(0);
                var perm = ctx.Attrs.Ints("perm");
                if (perm.Length != s.Rank || perm.Order().Where((p, i) => p != i).Any())
                    throw ctx.Fail($"perm [{string.Join(",", perm)}] is not a permutation of the {s.Rank} axes of {s}");
                return InferContext.One(new Shape(perm.Select(p => s[p]).ToArray()), ctx.DType(0));
            },
            Kernel = ctx =>
            {
                var s = ctx.InputShape(0);
                var perm = ctx.Attrs.Ints("perm");
                var inStrides = s.Strides();
                var outShape = ctx.OutputShape(0);
                ctx.Backend.Copy(new StridedView(ctx.Input(0), 0, perm.Select(p => inStrides[p]).ToArray()),
                    new StridedView(ctx.Output(0), 0, outShape.Strides()), outShape.Span);
            },
            Gradient = g =>
            {
                var perm = g.Attrs.Ints("perm");
                var inverse = new int[perm.Length];
                for (var i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
                return [g.Graph.Transpose(g.Grad(0)!.Value, inverse)];
            },
        },
    ];

    /// <summary>Resolves a reshape target with at most one −1 against the input shape.</summary>
    private static Shape ReshapeTarget(InferContext ctx, Shape input, int[] target)
    {
        var inferred = Array.IndexOf(target, -1);
        if (target.Count(d => d == -1) > 1) throw ctx.Fail($"only one -1 is allowed in the target shape {Shape.Format(target)}");
        // Printed raw: Shape.Format would show an invalid −2 as "?".
        if (target.Any(d => d < -1)) throw ctx.Fail($"invalid target shape [{string.Join(",", target)}]: dimensions must be ≥ 0, or -1 once");
        var known = new Shape([.. target.Select(d => d < 0 ? 1 : d)]).ElementCount;
        var size = input.Size;
        if (inferred < 0)
        {
            if (size >= 0 && size != known) throw ctx.Fail($"cannot reshape {input} ({size} elements) to {Shape.Format(target)} ({known} elements)");
            return new Shape(target);
        }
        var dims = (int[])target.Clone();
        if (size < 0) return new Shape(dims);
        if (known == 0 || size % known != 0) throw ctx.Fail($"cannot reshape {input} ({size} elements) to {Shape.Format(target)}");
        dims[inferred] = (int)(size / known);
        return new Shape(dims);
    }
}

public sealed partial class Graph
{
    /// <summary>Same elements in a new shape; one dimension may be −1 (inferred). No copy.</summary>
    public Output Reshape(Output x, int[] shape, string? name = null) => AddSingleOutput("Reshape", [x], new Attributes().Set("shape", (int[])shape.Clone()), name);

    /// <summary>Reshapes x to <paramref name="like"/>'s run-time shape.</summary>
    public Output ReshapeLike(Output x, Output like, string? name = null) => AddSingleOutput("ReshapeLike", [x, like], null, name);

    /// <summary>Inserts a size-1 axis at <paramref name="axis"/> (−1 appends).</summary>
    public Output ExpandDims(Output x, int axis, string? name = null) => AddSingleOutput("ExpandDims", [x], new Attributes().Set("axis", axis), name);

    /// <summary>Removes size-1 axes: the given ones (each must be 1), or, when null, every axis whose static size is 1 (unknown dims are kept).</summary>
    public Output Squeeze(Output x, int[]? axes = null, string? name = null)
    {
        RequireArgument(x, "Squeeze", nameof(x));
        return AddSingleOutput("Squeeze", [x], new Attributes().Set("axes", axes is null ? Enumerable.Range(0, x.Shape.Rank).Where(d => x.Shape[d] == 1).ToArray() : (int[])axes.Clone()), name);
    }

    /// <summary>Permutes axes (default: reverses them).</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is <c>default(Output)</c>.</exception>
    public Output Transpose(Output x, int[]? perm = null, string? name = null)
    {
        RequireArgument(x, "Transpose", nameof(x));
        return AddSingleOutput("Transpose", [x], new Attributes().Set("perm", perm ?? Enumerable.Range(0, x.Shape.Rank).Reverse().ToArray()), name);
    }
}
