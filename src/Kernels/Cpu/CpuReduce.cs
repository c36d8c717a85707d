using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

/// <summary>float32 reductions: contiguous rows (inner == 1) use TensorPrimitives; column sums accumulate row vectors.</summary>
internal static class CpuReduce
{
    public static bool TryFloat(ReduceOp op, ReadOnlySpan<float> x, int outer, int reduce, int inner, HostBuffer yBuffer)
    {
        if (op is ReduceOp.ArgMax or ReduceOp.ArgMin && yBuffer.Storage is long[] && inner == 1 && reduce is > 0 and <= 16 && Avx512F.IsSupported)
        {
            ArgShortRows(op == ReduceOp.ArgMax, x, outer, reduce, yBuffer.Span<long>());
            return true;
        }
        if (yBuffer.Storage is not float[] || reduce == 0) return false;
        var y = yBuffer.Span<float>();
        if (inner == 1)
        {
            for (var o = 0; o < outer; o++)
            {
                var row = x.Slice(o * reduce, reduce);
                y[o] = op switch
                {
                    ReduceOp.Sum => TensorPrimitives.Sum(row),
                    ReduceOp.Mean => TensorPrimitives.Sum(row) / reduce,
                    ReduceOp.Max => TensorPrimitives.Max(row),
                    ReduceOp.Min => TensorPrimitives.Min(row),
                    _ => TensorPrimitives.Product(row),
                };
            }
            return true;
        }
        if (op is ReduceOp.Sum or ReduceOp.Mean)
        {
            // [outer, reduce, inner] → [outer, inner]: add whole rows of length inner (bias gradients).
            for (var o = 0; o < outer; o++)
            {
                if (inner <= 16 && Avx512F.IsSupported)
                {
                    SumShortRows(x.Slice(o * reduce * inner, reduce * inner), reduce, inner, y.Slice(o * inner, inner), op == ReduceOp.Mean ? 1f / reduce : 1f);
                    continue;
                }
                var acc = y.Slice(o * inner, inner);
                x.Slice(o * reduce * inner, inner).CopyTo(acc);
                for (var r = 1; r < reduce; r++) TensorPrimitives.Add(acc, x.Slice((o * reduce + r) * inner, inner), acc);
                if (op == ReduceOp.Mean) TensorPrimitives.Multiply(acc, 1f / reduce, acc);
            }
            return true;
        }
        return false;
    }

    /// <summary>
    /// y = scale · Σ_r x[r, :] for rows of at most 16 floats (a convolution's bias gradient sums N·H·W rows of C channels):
    /// one masked vector per row into four accumulators (rows r mod 4), added pairwise at the end. A TensorPrimitives call
    /// per 6-float row cost ~10 ns of overhead for 6 additions.
    /// </summary>
    private static unsafe void SumShortRows(ReadOnlySpan<float> x, int reduce, int inner, Span<float> y, float scale)
    {
        var mask = GemmSkinny.Mask(inner);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        fixed (float* px = x, py = y)
        {
            var p = px;
            var r = 0;
            for (; r + 4 <= reduce; r += 4, p += 4 * inner)
            {
                a0 += Avx512F.MaskLoad(p, mask, Vector512<float>.Zero);
                a1 += Avx512F.MaskLoad(p + inner, mask, Vector512<float>.Zero);
                a2 += Avx512F.MaskLoad(p + 2 * inner, mask, Vector512<float>.Zero);
                a3 += Avx512F.MaskLoad(p + 3 * inner, mask, Vector512<float>.Zero);
            }
            for (; r < reduce; r++, p += inner) a0 += Avx512F.MaskLoad(p, mask, Vector512<float>.Zero);
            Avx512F.MaskStore(py, mask, ((a0 + a1) + (a2 + a3)) * Vector512.Create(scale));
        }
    }

    /// <summary>
    /// ArgMax / ArgMin over rows of at most 16 floats (a classifier's 10 outputs), one masked vector per row: the index of
    /// the first NaN if the row holds one, else of the first lane equal to the row's extreme (−0 equals +0), which is the
    /// first maximum (minimum) as <see cref="StridedLoops.ArgReduce{T}"/> scans it, without its data-dependent branches.
    /// </summary>
    private static unsafe void ArgShortRows(bool max, ReadOnlySpan<float> x, int rows, int cols, Span<long> y)
    {
        var mask = GemmSkinny.Mask(cols);
        // Lanes past the row hold the identity of the extreme, so they never beat a row element (and tie only with an
        // all-±∞ row, whose first element then wins by the lowest-lane rule).
        var padding = Vector512.Create(max ? float.NegativeInfinity : float.PositiveInfinity);
        var lanes = (1u << cols) - 1;
        fixed (float* px = x)
        {
            for (var r = 0; r < rows; r++)
            {
                var v = Avx512F.MaskLoad(px + (nint)r * cols, mask, padding);
                var nan = ~Vector512.Equals(v, v).ExtractMostSignificantBits() & lanes;
                if (nan != 0)
                {
                    y[r] = BitOperations.TrailingZeroCount(nan);
                    continue;
                }
                var extreme = max ? VectorMath.ReduceMax(v) : VectorMath.ReduceMin(v);
                var hit = Vector512.Equals(v, Vector512.Create(extreme)).ExtractMostSignificantBits() & lanes;
                y[r] = BitOperations.TrailingZeroCount(hit);
            }
        }
    }
}
