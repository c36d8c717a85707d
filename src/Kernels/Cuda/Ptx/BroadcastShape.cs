namespace Nabla.Kernels.Cuda.Ptx;

/// <summary>Host-side shape helpers for kernels over broadcast operands.</summary>
internal static class BroadcastShape
{
    /// <summary>
    /// Drops the dimensions of extent 1 and merges each dimension into the next where every operand's strides are
    /// contiguous across the pair (stride[d] = stride[d+1]·shape[d+1]), so a kernel divides the flat index by as few
    /// extents as possible. Returns at least one dimension (extent 1 for a scalar).
    /// </summary>
    public static (long[] Shape, long[][] Strides) Collapse(ReadOnlySpan<int> shape, params int[][] strides)
    {
        var dims = new List<long>();
        var outStrides = strides.Select(_ => new List<long>()).ToArray();
        for (var d = 0; d < shape.Length; d++)
        {
            if (shape[d] == 1) continue;
            var merge = dims.Count > 0;
            for (var o = 0; o < strides.Length && merge; o++)
                merge = outStrides[o][^1] == (long)strides[o][d] * shape[d];
            if (merge)
            {
                dims[^1] *= shape[d];
                for (var o = 0; o < strides.Length; o++) outStrides[o][^1] = strides[o][d];
            }
            else
            {
                dims.Add(shape[d]);
                for (var o = 0; o < strides.Length; o++) outStrides[o].Add(strides[o][d]);
            }
        }
        if (dims.Count == 0)
        {
            dims.Add(1);
            foreach (var s in outStrides) s.Add(0);
        }
        return (dims.ToArray(), outStrides.Select(s => s.ToArray()).ToArray());
    }
}
