using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Indexing by a tensor of int32/int64 indices: gather and its gradient, a scatter-add into zeros
/// (GatherGrad). Backends assume indices are in range, so both ops check them: before any kernel of
/// the step runs when the indices are fed or constant (<see cref="OpDef.PreRunCheck"/>), and in the
/// kernel when they are computed by the graph.
/// </summary>
internal static class IndexOps
{
    public static IEnumerable<OpDef> Defs() =>
    [
        new OpDef
        {
            Type = "Gather",
            Infer = ctx =>
            {
                var (p, idx) = (ctx.Shape(0), ctx.Shape(1));
                var axis = GatherAxis(ctx, paramsInput: 0, indicesInput: 1);
                return InferContext.One(new Shape([.. p.Take(axis), .. idx, .. p.Skip(axis + 1)]), ctx.DType(0));
            },
            Kernel = ctx =>
            {
                var p = ctx.InputShape(0);
                var (outer, axisDim, inner) = Split3(p, Regions.Norm(ctx.Attrs.Int("axis"), p.Rank));
                // Fed and constant indices were checked by PreRunCheck before the run; computed ones are checked here.
                if (!ctx.InputCheckedBeforeRun(1)) CheckIndices(ctx.Op, ctx.HostInput(1), p, ctx.Attrs.Int("axis"));
                var y = ctx.Output(0);
                if (y.Length > 0) ctx.Backend.Gather(ctx.Input(0), ctx.Input(1), outer, axisDim, inner, y);
            },
            PreRunCheck = (op, shapes, host) => { if (host(1) is { } t) CheckIndices(op, t, shapes[0], op.Attrs.Int("axis")); },
            Gradient = g => g.Input(0).DType.IsFloating() ? [g.Graph.GatherGrad(g.Grad(0)!.Value, g.Input(1), g.Input(0), g.Attrs.Int("axis")), null] : [null, null],
        },
        new OpDef
        {
            Type = "GatherGrad",
            Infer = ctx =>
            {
                ctx.RequireFloating(0);
                var (dy, idx, p) = (ctx.Shape(0), ctx.Shape(1), ctx.Shape(2));
                var axis = GatherAxis(ctx, paramsInput: 2, indicesInput: 1);
                var expected = new Shape([.. p.Take(axis), .. idx, .. p.Skip(axis + 1)]);
                if (!dy.IsCompatibleWith(expected)) throw ctx.Fail($"gradient {dy} does not match the gather output {expected} of params {p} and indices {idx}");
                return InferContext.One(p, ctx.DType(0));
            },
            Kernel = ctx =>
            {
                var p = ctx.InputShape(2);
                var (outer, axisDim, inner) = Split3(p, Regions.Norm(ctx.Attrs.Int("axis"), p.Rank));
                if (!ctx.InputCheckedBeforeRun(1)) CheckIndices(ctx.Op, ctx.HostInput(1), p, ctx.Attrs.Int("axis"));
                var y = ctx.Output(0);
                ctx.Backend.Fill(y, 0);
                if (ctx.InputShape(0).Size > 0) ctx.Backend.ScatterAdd(ctx.Input(0), ctx.Input(1), outer, axisDim, inner, y);
            },
            PreRunCheck = (op, shapes, host) => { if (host(1) is { } t) CheckIndices(op, t, shapes[2], op.Attrs.Int("axis")); },
            Gradient = g => [g.Graph.Gather(g.Grad(0)!.Value, g.Input(1), g.Attrs.Int("axis")), null, null],
        },
    ];

    /// <summary>Gather's shape rule: params has rank ≥ 1, indices are int32/int64, the axis is in range.</summary>
    private static int GatherAxis(InferContext ctx, int paramsInput, int indicesInput)
    {
        var p = ctx.Shape(paramsInput);
        if (!ctx.DType(indicesInput).IsInteger())
            throw ctx.Fail($"indices must be int32 or int64, got {ctx.DType(indicesInput).Name()} {ctx.Shape(indicesInput)}");
        if (p.Rank == 0) throw ctx.Fail($"params (input {paramsInput}) is a scalar; it needs an axis to index");
        return ctx.Axis(ctx.Attrs.Int("axis"), p.Rank);
    }

    private static (int Outer, int AxisDim, int Inner) Split3(Shape p, int axis)
    {
        int outer = 1, inner = 1;
        for (var d = 0; d < axis; d++) outer *= p[d];
        for (var d = axis + 1; d < p.Rank; d++) inner *= p[d];
        return (outer, p[axis], inner);
    }

    /// <summary>Throws <see cref="InvalidArgumentException"/> naming the op, the first bad index, where it is, and the valid range.</summary>
    private static void CheckIndices(Operation op, Tensor indices, Shape p, int axis)
    {
        axis = Regions.Norm(axis, p.Rank);
        var n = p[axis];
        var flat = indices.ToDoubleArray();
        for (var i = 0; i < flat.Length; i++)
        {
            if (flat[i] >= 0 && flat[i] < n) continue;
            var valid = n == 0 ? "none (the axis is empty)" : $"0..{n - 1}";
            throw new InvalidArgumentException(
                $"{op}: index {(long)flat[i]} at flat position {i} of indices {indices.Shape} is out of range for axis {axis} of params {p}; valid indices: {valid}");
        }
    }
}
