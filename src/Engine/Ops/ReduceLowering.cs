using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Reduction over arbitrary axes in terms of the backend's [outer, reduce, inner] kernel: adjacent
/// dimensions of the same kind are merged; when the reduced axes still do not form one block, the
/// input is first transposed (a strided copy) so they become the trailing block.
/// </summary>
internal static class ReduceLowering
{
    /// <summary>
    /// Declares the workspace <see cref="Reduce"/> will need for (<paramref name="shape"/>, <paramref name="axes"/>):
    /// workspace 0, a transposed copy of x, when the reduced axes do not form one block.
    /// </summary>
    public static void PrepareWorkspace(PrepareContext ctx, DType dtype, Shape shape, int[] axes)
    {
        if (NeedsTranspose(shape, axes)) ctx.Workspace(dtype, shape.Size);
    }

    private static bool NeedsTranspose(Shape shape, int[] axes) =>
        shape.Size != 0 && axes.Length != 0 && !axes.All(a => shape[a] == 1) && Groups(shape, axes).Count(g => g.Reduced) > 1;

    private static List<(bool Reduced, int Size)> Groups(Shape shape, int[] axes)
    {
        var groups = new List<(bool Reduced, int Size)>();
        for (var d = 0; d < shape.Rank; d++)
        {
            if (shape[d] == 1) continue;
            var red = Array.IndexOf(axes, d) >= 0;
            if (groups.Count > 0 && groups[^1].Reduced == red) groups[^1] = (red, groups[^1].Size * shape[d]);
            else groups.Add((red, shape[d]));
        }
        return groups;
    }

    /// <summary>Enqueues the reduction; the op's Prepare must have called <see cref="PrepareWorkspace"/> with the same shape and axes.</summary>
    public static void Reduce(KernelContext ctx, ReduceOp op, DeviceBuffer x, Shape shape, int[] axes, DeviceBuffer y)
    {
        var be = ctx.Backend;
        var size = shape.Size;
        if (size == 0 || axes.Length == 0 || axes.All(a => shape[a] == 1))
        {
            // Nothing to combine: either a copy, or (empty input) the op's identity / NaN for mean.
            if (y.Length == 0) return;
            if (size == 0)
            {
                be.Fill(y, EmptyValue(op, x.DType));
                return;
            }
            if (op is ReduceOp.ArgMax or ReduceOp.ArgMin) { be.Fill(y, 0); return; }
            var s = shape.Strides();
            be.Copy(new StridedView(x, 0, s), new StridedView(y, 0, s), shape.Span);
            return;
        }
        // Merge runs of reduced / kept dims.
        var groups = Groups(shape, axes);
        var redBlocks = groups.Count(g => g.Reduced);
        if (redBlocks == 1)
        {
            var at = groups.FindIndex(g => g.Reduced);
            int outer = 1, inner = 1;
            for (var i = 0; i < at; i++) outer *= groups[i].Size;
            for (var i = at + 1; i < groups.Count; i++) inner *= groups[i].Size;
            be.Reduce(op, x, outer, groups[at].Size, inner, y);
            return;
        }
        // Transpose kept axes first, reduced axes last, then reduce the trailing block.
        var perm = Enumerable.Range(0, shape.Rank).Where(d => Array.IndexOf(axes, d) < 0).Concat(axes).ToArray();
        var permShape = perm.Select(d => shape[d]).ToArray();
        var srcStrides = shape.Strides();
        var tmp = ctx.Workspace(0);
        be.Copy(new StridedView(x, 0, perm.Select(d => srcStrides[d]).ToArray()), new StridedView(tmp, 0, new Shape(permShape).Strides()), permShape);
        var reduce = axes.Aggregate(1, (acc, a) => acc * shape[a]);
        be.Reduce(op, tmp, size / reduce, reduce, 1, y);
    }


    /// <summary>The identity of a reduction over nothing; integers use their extreme values where floats use ±∞ (as NumPy's initial values).</summary>
    private static double EmptyValue(ReduceOp op, DType dtype) => op switch
    {
        ReduceOp.Sum => 0,
        ReduceOp.Prod => 1,
        ReduceOp.Max => dtype == DType.Int32 ? int.MinValue : dtype == DType.Int64 ? long.MinValue : double.NegativeInfinity,
        ReduceOp.Min => dtype == DType.Int32 ? int.MaxValue : dtype == DType.Int64 ? long.MaxValue : double.PositiveInfinity,
        ReduceOp.Mean => double.NaN,
        _ => 0,
    };

    /// <summary>The axes of a gradient of shape <paramref name="from"/> to sum to get shape <paramref name="to"/>.</summary>
    public static int[] BroadcastAxes(Shape from, Shape to)
    {
        var lead = from.Rank - to.Rank;
        var axes = new List<int>();
        for (var d = 0; d < from.Rank; d++)
            if (d < lead || (to[d - lead] == 1 && from[d] != 1)) axes.Add(d);
        return axes.ToArray();
    }
}
