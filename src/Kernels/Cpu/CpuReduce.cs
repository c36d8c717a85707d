using System.Numerics.Tensors;

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
                var acc = y.Slice(o * inner, inner);
                x.Slice(o * reduce * inner, inner).CopyTo(acc);
                for (var r = 1; r < reduce; r++) TensorPrimitives.Add(acc, x.Slice((o * reduce + r) * inner, inner), acc);
                if (op == ReduceOp.Mean) TensorPrimitives.Multiply(acc, 1f / reduce, acc);
            }
            return true;
        }
        return false;
    }
}
