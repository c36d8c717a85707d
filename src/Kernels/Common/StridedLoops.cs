using System.Numerics;

namespace Nabla.Kernels;

/// <summary>
/// Generic strided loops over an N-d index space: the innermost dimension runs as a tight loop,
/// the outer ones advance an odometer. The CPU backend's generic loops (the reference backend has its
/// own, one element at a time).
/// </summary>
internal static class StridedLoops
{
    public static int Count(ReadOnlySpan<int> shape)
    {
        var n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }

    public static void Copy<T>(ReadOnlySpan<T> src, int srcOffset, int[] srcStrides, Span<T> dst, int dstOffset, int[] dstStrides, ReadOnlySpan<int> shape)
    {
        var total = Count(shape);
        if (total == 0) return;
        var rank = shape.Length;
        if (rank == 0) { dst[dstOffset] = src[srcOffset]; return; }
        int inner = shape[rank - 1], si = srcStrides[rank - 1], di = dstStrides[rank - 1];
        Span<int> idx = stackalloc int[rank];
        int os = srcOffset, od = dstOffset;
        for (int o = 0, outer = total / inner; o < outer; o++)
        {
            if (si == 1 && di == 1) src.Slice(os, inner).CopyTo(dst.Slice(od, inner));
            else for (var j = 0; j < inner; j++) dst[od + j * di] = src[os + j * si];
            for (var d = rank - 2; d >= 0; d--)
            {
                idx[d]++; os += srcStrides[d]; od += dstStrides[d];
                if (idx[d] < shape[d]) break;
                os -= srcStrides[d] * shape[d]; od -= dstStrides[d] * shape[d]; idx[d] = 0;
            }
        }
    }

    public static void Binary<T, TR, TOp>(ReadOnlySpan<T> a, int aOffset, int[] aStrides, ReadOnlySpan<T> b, int bOffset, int[] bStrides, Span<TR> y, ReadOnlySpan<int> shape)
        where TOp : IBinaryOperator<T, TR>
    {
        var total = Count(shape);
        if (total == 0) return;
        var rank = shape.Length;
        if (rank == 0) { y[0] = TOp.Invoke(a[aOffset], b[bOffset]); return; }
        int inner = shape[rank - 1], sa = aStrides[rank - 1], sb = bStrides[rank - 1];
        Span<int> idx = stackalloc int[rank];
        int oa = aOffset, ob = bOffset, oy = 0;
        for (int o = 0, outer = total / inner; o < outer; o++)
        {
            for (var j = 0; j < inner; j++) y[oy + j] = TOp.Invoke(a[oa + j * sa], b[ob + j * sb]);
            oy += inner;
            for (var d = rank - 2; d >= 0; d--)
            {
                idx[d]++; oa += aStrides[d]; ob += bStrides[d];
                if (idx[d] < shape[d]) break;
                oa -= aStrides[d] * shape[d]; ob -= bStrides[d] * shape[d]; idx[d] = 0;
            }
        }
    }

    public static void Select<T>(ReadOnlySpan<bool> c, int cOffset, int[] cStrides, ReadOnlySpan<T> a, int aOffset, int[] aStrides, ReadOnlySpan<T> b, int bOffset, int[] bStrides, Span<T> y, ReadOnlySpan<int> shape)
    {
        var total = Count(shape);
        if (total == 0) return;
        var rank = shape.Length;
        Span<int> idx = stackalloc int[Math.Max(rank, 1)];
        for (var i = 0; i < total; i++)
        {
            int oc = cOffset, oa = aOffset, ob = bOffset;
            for (var d = 0; d < rank; d++) { oc += idx[d] * cStrides[d]; oa += idx[d] * aStrides[d]; ob += idx[d] * bStrides[d]; }
            y[i] = c[oc] ? a[oa] : b[ob];
            for (var d = rank - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
        }
    }

    /// <summary>Sum/Mean/Max/Min/Prod over the middle axis, accumulating in T.</summary>
    public static void Reduce<T>(ReduceOp op, ReadOnlySpan<T> x, int outer, int reduce, int inner, Span<T> y) where T : IFloatingPointIeee754<T>
    {
        for (var o = 0; o < outer; o++)
            for (var i = 0; i < inner; i++)
            {
                var baseIdx = o * reduce * inner + i;
                T acc = op switch
                {
                    ReduceOp.Max => T.NegativeInfinity,
                    ReduceOp.Min => T.PositiveInfinity,
                    ReduceOp.Prod => T.One,
                    _ => T.Zero,
                };
                for (var r = 0; r < reduce; r++)
                {
                    var v = x[baseIdx + r * inner];
                    acc = op switch
                    {
                        ReduceOp.Max => T.Max(acc, v),
                        ReduceOp.Min => T.Min(acc, v),
                        ReduceOp.Prod => acc * v,
                        _ => acc + v,
                    };
                }
                if (op == ReduceOp.Mean) acc /= T.CreateChecked(reduce);
                y[o * inner + i] = acc;
            }
    }

    /// <summary>Sum/Max/Min/Prod of integers over the middle axis; sums and products wrap on overflow.</summary>
    public static void ReduceInteger<T>(ReduceOp op, ReadOnlySpan<T> x, int outer, int reduce, int inner, Span<T> y) where T : IBinaryInteger<T>, IMinMaxValue<T>
    {
        for (var o = 0; o < outer; o++)
            for (var i = 0; i < inner; i++)
            {
                var baseIdx = o * reduce * inner + i;
                T acc = op switch
                {
                    ReduceOp.Max => T.MinValue,
                    ReduceOp.Min => T.MaxValue,
                    ReduceOp.Prod => T.One,
                    ReduceOp.Sum => T.Zero,
                    _ => throw new NotSupportedException($"Reduce {op} is not defined for integers"),
                };
                for (var r = 0; r < reduce; r++)
                {
                    var v = x[baseIdx + r * inner];
                    acc = op switch
                    {
                        ReduceOp.Max => T.Max(acc, v),
                        ReduceOp.Min => T.Min(acc, v),
                        ReduceOp.Prod => unchecked(acc * v),
                        _ => unchecked(acc + v),
                    };
                }
                y[o * inner + i] = acc;
            }
    }

    /// <summary>Index of the first max (or min) along the middle axis; a NaN wins and stops the scan, as NumPy does.</summary>
    public static void ArgReduce<T>(bool max, ReadOnlySpan<T> x, int outer, int reduce, int inner, Span<long> y) where T : INumber<T>
    {
        for (var o = 0; o < outer; o++)
            for (var i = 0; i < inner; i++)
            {
                var baseIdx = o * reduce * inner + i;
                var best = 0;
                var bestV = x[baseIdx];
                for (var r = 1; r < reduce && !T.IsNaN(bestV); r++)
                {
                    var v = x[baseIdx + r * inner];
                    if (T.IsNaN(v) || (max ? v > bestV : v < bestV)) { best = r; bestV = v; }
                }
                y[o * inner + i] = best;
            }
    }

    /// <summary>Gathers rows of length <paramref name="inner"/>; an index outside [0, axisDim) gives a row of zeros (the engine reports it through its error flags).</summary>
    public static void Gather<T, TI>(ReadOnlySpan<T> src, ReadOnlySpan<TI> indices, int outer, int axisDim, int inner, Span<T> dst) where TI : IBinaryInteger<TI>
    {
        var n = indices.Length;
        for (var o = 0; o < outer; o++)
            for (var j = 0; j < n; j++)
            {
                var k = long.CreateTruncating(indices[j]);
                var row = dst.Slice((o * n + j) * inner, inner);
                if (k < 0 || k >= axisDim) row.Clear();
                else src.Slice((o * axisDim + (int)k) * inner, inner).CopyTo(row);
            }
    }

    /// <summary>Adds rows into dst at the given indices; an index outside [0, axisDim) is skipped.</summary>
    public static void ScatterAdd<T, TI>(ReadOnlySpan<T> updates, ReadOnlySpan<TI> indices, int outer, int axisDim, int inner, Span<T> dst)
        where T : INumber<T> where TI : IBinaryInteger<TI>
    {
        var n = indices.Length;
        for (var o = 0; o < outer; o++)
            for (var j = 0; j < n; j++)
            {
                var k = long.CreateTruncating(indices[j]);
                if (k < 0 || k >= axisDim) continue;
                int s = (o * n + j) * inner, d = (o * axisDim + (int)k) * inner;
                for (var i = 0; i < inner; i++) dst[d + i] += updates[s + i];
            }
    }
}
