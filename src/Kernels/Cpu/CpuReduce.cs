using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

/// <summary>float32 reductions: contiguous rows (inner == 1) use TensorPrimitives; column sums accumulate row vectors.</summary>
internal static class CpuReduce
{
    public static bool TryFloat(ReduceOp op, ReadOnlySpan<float> x, int outer, int reduce, int inner, HostBuffer yBuffer)
    {
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
}
