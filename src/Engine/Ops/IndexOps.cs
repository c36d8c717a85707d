using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Indexing by a tensor of int32/int64 indices: gather and its gradient, a scatter-add into zeros
/// (GatherGrad). Both ops check their indices: on the host before any kernel of the step runs when
/// the indices are fed or constant (<see cref="OpDef.PreRunCheck"/>), and on the device when they are
/// computed by the graph (a check site declared in Prepare; the run fails once it finishes, with the
/// same message). The kernels themselves read zeros for / skip out-of-range indices, so a bad index
/// never touches memory outside its buffer.
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
                var y = ctx.Output(0);
                if (y.Length > 0) ctx.Backend.Gather(ctx.Input(0), ctx.Input(1), outer, axisDim, inner, y);
            },
            PreRunCheck = (op, shapes, host) => { if (host(1) is { } t) CheckIndices(op, t, shapes[0], op.Attrs.Int("axis")); },
            Prepare = ctx => PrepareIndexCheck(ctx, paramsInput: 0),
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
                var y = ctx.Output(0);
                ctx.Backend.Fill(y, 0);
                if (ctx.InputShape(0).Size > 0) ctx.Backend.ScatterAdd(ctx.Input(0), ctx.Input(1), outer, axisDim, inner, y);
            },
            PreRunCheck = (op, shapes, host) => { if (host(1) is { } t) CheckIndices(op, t, shapes[2], op.Attrs.Int("axis")); },
            Prepare = ctx => PrepareIndexCheck(ctx, paramsInput: 2),
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
        var flat = indices.ToDoubleArray();
        for (var i = 0; i < flat.Length; i++)
            if (flat[i] < 0 || flat[i] >= p[axis]) throw new InvalidArgumentException(IndexMessage(op, (long)flat[i], i, indices.Shape, p, axis));
    }

    /// <summary>Indices computed by the graph are checked on the device; the run fails after it finishes, with the same message.</summary>
    private static void PrepareIndexCheck(PrepareContext ctx, int paramsInput)
    {
        if (ctx.InputCheckedBeforeRun(1)) return;
        var (op, p, indices) = (ctx.Op, ctx.InputShape(paramsInput), ctx.InputShape(1));
        var axis = Regions.Norm(ctx.Attrs.Int("axis"), p.Rank);
        ctx.Check(CheckKind.IndexInRange, 1, p[axis], (position, value) => IndexMessage(op, value, position, indices, p, axis));
    }

    private static string IndexMessage(Operation op, long index, long position, Shape indices, Shape p, int axis)
    {
        var valid = p[axis] == 0 ? "none (the axis is empty)" : $"0..{p[axis] - 1}";
        return $"{op}: index {index} at flat position {position} of indices {indices} is out of range for axis {axis} of params {p}; valid indices: {valid}";
    }
}

public sealed partial class Graph
{
    /// <summary>
    /// Rows of <paramref name="params"/> picked along <paramref name="axis"/> (tf.gather): the output shape is
    /// params[:axis] + indices.shape + params[axis+1:]. Differentiable with respect to params only.
    /// </summary>
    /// <exception cref="InvalidArgumentException">At run time, an index is negative or ≥ params.Shape[axis]; fed and constant indices are checked before any kernel of the step runs.</exception>
    public Output Gather(Output @params, Output indices, int axis = 0, string? name = null) =>
        AddSingleOutput("Gather", [@params, indices], new Attributes().Set("axis", axis), name);

    /// <summary>Zeros shaped like <paramref name="params"/> with dy's rows added at the gathered indices (the gradient of a gather).</summary>
    internal Output GatherGrad(Output dy, Output indices, Output @params, int axis, string? name = null) =>
        AddSingleOutput("GatherGrad", [dy, indices, @params], new Attributes().Set("axis", axis), name);

}
