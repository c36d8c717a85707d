using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Matrix products: rank-2 MatMul and batched MatMul (rank ≥ 3, batch dims broadcast as NumPy's
/// matmul). Shape rule "matmul": [..., m, k] x [..., k, n] → [broadcast(...), m, n], with the
/// last two dims swapped by transposeA / transposeB.
/// </summary>
internal static class MatMulOps
{
    public static IEnumerable<OpDef> Defs() =>
    [
        new OpDef
        {
            Type = "MatMul",
            Infer = Infer,
            Prepare = Prepare,
            Kernel = Kernel,
            Gradient = Gradient,
        },
    ];

    private static OutputSpec[] Infer(InferContext ctx)
    {
        ctx.RequireSameDType(0, 1);
        ctx.RequireFloating(0);
        Shape a = ctx.Shape(0), b = ctx.Shape(1);
        if (a.Rank < 2 || b.Rank < 2) throw ctx.Fail($"both operands need rank ≥ 2: {a} x {b}");
        bool ta = ctx.Attrs.Bool("transpose_a"), tb = ctx.Attrs.Bool("transpose_b");
        int m = ta ? a[^1] : a[^2], ka = ta ? a[^2] : a[^1];
        int kb = tb ? b[^1] : b[^2], n = tb ? b[^2] : b[^1];
        if (ka >= 0 && kb >= 0 && ka != kb)
            throw ctx.Fail($"inner dimensions differ: {a}{(ta ? "ᵀ" : "")} x {b}{(tb ? "ᵀ" : "")}");
        var batch = ShapeRules.Broadcast(ctx, new Shape(a.Take(a.Rank - 2).ToArray()), new Shape(b.Take(b.Rank - 2).ToArray()));
        // An operand whose batch dims broadcast is copied to the full batch (see Prepare): that copy, not
        // only the output, must fit in an int-indexed buffer.
        foreach (var s in new[] { a, b })
        {
            if (!s.IsFullyDefined || !batch.IsFullyDefined || !NeedsBroadcastCopy(s, batch)) continue;
            var copy = new Shape([.. batch, s[^2], s[^1]]);
            if (copy.ElementCount > Shape.MaxElements)
                throw ctx.Fail($"broadcasting {s} over the batch {batch} needs a {copy} copy, more than 2^31-1 elements: {a} x {b}");
        }
        return InferContext.One(new Shape([.. batch, m, n]), ctx.DType(0));
    }

    /// <summary>The workspaces of operands whose batch dims must be broadcast by copying (index in the state array, or −1).</summary>
    private static void Prepare(PrepareContext ctx)
    {
        var c = ctx.OutputShape(0);
        var batchShape = new Shape(c.Take(c.Rank - 2).ToArray());
        int[] workspace = [-1, -1];
        for (var i = 0; i < 2; i++)
        {
            var s = ctx.InputShape(i);
            if (NeedsBroadcastCopy(s, batchShape)) workspace[i] = ctx.Workspace(ctx.InputDType(i), new Shape([.. batchShape, s[^2], s[^1]]).Size);
        }
        ctx.State = workspace;
    }

    private static bool NeedsBroadcastCopy(Shape s, Shape batchShape)
    {
        var own = new Shape(s.Take(s.Rank - 2).ToArray());
        return own.Size != 1 && own != batchShape;
    }

    private static void Kernel(KernelContext ctx)
    {
        Shape a = ctx.InputShape(0), b = ctx.InputShape(1), c = ctx.OutputShape(0);
        bool ta = ctx.Attrs.Bool("transpose_a"), tb = ctx.Attrs.Bool("transpose_b");
        int m = c[^2], n = c[^1], k = ta ? a[^2] : a[^1];
        var batchShape = new Shape(c.Take(c.Rank - 2).ToArray());
        var batch = batchShape.Size;
        var y = ctx.Output(0);
        var workspace = ctx.Prepared<int[]>();
        var (bufA, strideA) = BatchOperand(ctx, ctx.Input(0), a, batchShape, workspace[0]);
        var (bufB, strideB) = BatchOperand(ctx, ctx.Input(1), b, batchShape, workspace[1]);
        ctx.Backend.MatMul(bufA, bufB, y, new MatMulArgs(batch, m, n, k, ta, tb, strideA, strideB));
    }

    /// <summary>A buffer whose matrices are laid out one per output batch index (stride 0 when shared); broadcasts by copying into the planned workspace when needed.</summary>
    private static (DeviceBuffer, long) BatchOperand(KernelContext ctx, DeviceBuffer x, Shape s, Shape batchShape, int workspace)
    {
        var matrix = s[^1] * s[^2];
        var own = new Shape(s.Take(s.Rank - 2).ToArray());
        if (own.Size == 1) return (x, 0);
        if (own == batchShape) return (x, matrix);
        var full = new Shape([.. batchShape, s[^2], s[^1]]);
        var tmp = ctx.Workspace(workspace);
        ctx.Backend.Copy(ShapeRules.View(x, s, full), new StridedView(tmp, 0, full.Strides()), full.Span);
        return (tmp, matrix);
    }

    private static Output?[] Gradient(GradContext g)
    {
        var gr = g.Graph;
        var dy = g.Grad(0)!.Value;
        Output a = g.Input(0), b = g.Input(1);
        bool ta = g.Attrs.Bool("transpose_a"), tb = g.Attrs.Bool("transpose_b");
        Output da, db;
        switch (ta, tb)
        {
            case (false, false): da = gr.MatMul(dy, b, false, true); db = gr.MatMul(a, dy, true, false); break;
            case (false, true): da = gr.MatMul(dy, b, false, false); db = gr.MatMul(dy, a, true, false); break;
            case (true, false): da = gr.MatMul(b, dy, false, true); db = gr.MatMul(a, dy, false, false); break;
            default: da = gr.MatMul(b, dy, true, true); db = gr.MatMul(dy, a, true, true); break;
        }
        if (a.Shape.Rank == 2 && b.Shape.Rank == 2) return [da, db];
        return [gr.SumToShape(da, a), gr.SumToShape(db, b)];
    }
}

public sealed partial class Graph
{
    /// <summary>
    /// Matrix product op(a)·op(b); with rank ≥ 3 operands, a batched product with broadcast batch dims.
    /// Fails at build time when inner dimensions differ, naming both shapes.
    /// </summary>
    public Output MatMul(Output a, Output b, bool transposeA = false, bool transposeB = false, string? name = null) =>
        AddSingleOutput("MatMul", [a, b], new Attributes().Set("transpose_a", transposeA).Set("transpose_b", transposeB), name);
}
