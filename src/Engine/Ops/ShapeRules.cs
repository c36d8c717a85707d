using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Shape rules shared by many ops; each op names the rule it uses. Unknown dimensions (−1)
/// propagate: a rule fails at build time only when known dimensions conflict.
/// </summary>
internal static class ShapeRules
{
    /// <summary>Output shape = input 0's shape, dtype = input 0's.</summary>
    public static OutputSpec[] Unchanged(InferContext ctx) => InferContext.One(ctx.Shape(0), ctx.DType(0));

    /// <summary>NumPy broadcasting of two shapes, aligned at the trailing dimension.</summary>
    public static Shape Broadcast(InferContext ctx, Shape a, Shape b)
    {
        var rank = Math.Max(a.Rank, b.Rank);
        var dims = new int[rank];
        for (var i = 0; i < rank; i++)
        {
            var da = i < rank - a.Rank ? 1 : a[i - (rank - a.Rank)];
            var db = i < rank - b.Rank ? 1 : b[i - (rank - b.Rank)];
            if (da == 1) dims[i] = db;
            else if (db == 1) dims[i] = da;
            else if (da == -1) dims[i] = db;
            else if (db == -1 || da == db) dims[i] = da;
            else throw ctx.Fail($"shapes cannot be broadcast: {a} vs {b} (dimension {i}: {da} vs {db})");
        }
        return new Shape(dims);
    }

    /// <summary>Strides that read <paramref name="input"/> as if broadcast to <paramref name="output"/> (0 on broadcast dims).</summary>
    public static int[] BroadcastStrides(Shape input, Shape output)
    {
        var s = new int[output.Rank];
        var inStrides = input.Strides();
        var lead = output.Rank - input.Rank;
        for (var i = 0; i < input.Rank; i++)
            s[lead + i] = input[i] == 1 && output[lead + i] != 1 ? 0 : inStrides[i];
        return s;
    }

    /// <summary>A contiguous view of a whole buffer broadcast to <paramref name="output"/>.</summary>
    public static StridedView View(DeviceBuffer buffer, Shape input, Shape output) => new(buffer, 0, BroadcastStrides(input, output));

    /// <summary>Sorted, de-duplicated, normalised reduction axes (null = all).</summary>
    public static int[] ReduceAxes(InferContext ctx, int[]? axes, int rank)
    {
        if (axes is null) return Enumerable.Range(0, rank).ToArray();
        var set = new SortedSet<int>();
        foreach (var a in axes)
            if (!set.Add(ctx.Axis(a, rank))) throw ctx.Fail($"axis {a} is repeated in [{string.Join(",", axes)}]");
        return set.ToArray();
    }

    /// <summary>Shape after reducing <paramref name="axes"/> (kept as size 1 when keepDims).</summary>
    public static Shape Reduced(Shape x, int[] axes, bool keepDims)
    {
        var dims = new List<int>();
        for (var d = 0; d < x.Rank; d++)
        {
            if (Array.IndexOf(axes, d) < 0) dims.Add(x[d]);
            else if (keepDims) dims.Add(1);
        }
        return new Shape(dims.ToArray());
    }
}
