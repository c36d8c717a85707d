using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels.Cpu;

/// <summary>float32 unary kernels on TensorPrimitives; ops it lacks fall back to the scalar definitions.</summary>
internal static class CpuUnary
{
    private const int Chunk = 1 << 15;

    /// <summary>Ops whose TensorPrimitives kernel may round differently before and after the JIT re-compiles it (see <see cref="CpuBackend"/>).</summary>
    public static bool IsTierDependent(UnaryOp op) => op is UnaryOp.Exp or UnaryOp.Log or UnaryOp.Sin or UnaryOp.Cos or UnaryOp.Tanh or UnaryOp.Sigmoid;

    public static bool TryFloat(UnaryOp op, ArraySegment<float> x, ArraySegment<float> y)
    {
        // Some TensorPrimitives functions (Sigmoid) reject empty spans.
        if (x.Count == 0) return true;
        if (x.Count >= 2 * Chunk)
        {
            // Large arrays: split into chunks so both cores work; each chunk is one vectorised call.
            var ok = true;
            KernelThreads.For(0, (x.Count + Chunk - 1) / Chunk, c =>
            {
                var start = c * Chunk;
                var len = Math.Min(Chunk, x.Count - start);
                if (!Apply(op, x.AsSpan(start, len), y.AsSpan(start, len))) ok = false;
            });
            return ok;
        }
        return Apply(op, x, y);
    }

    /// <summary>One vectorised call over a span (also one block of a fused program): the function's float32 form in <see cref="UnaryFunctions"/>; always true.</summary>
    internal static bool Apply(UnaryOp op, ReadOnlySpan<float> x, Span<float> y)
    {
        UnaryFunctions.Float32(op, x, y);
        return true;
    }

    /// <summary>TensorPrimitives.Tanh with the small-|x| fix-up below (the float32 form of <see cref="TanhFunction"/>).</summary>
    internal static void Tanh(ReadOnlySpan<float> x, Span<float> y)
    {
        // The fix-up rereads x, so an in-place call works from a copy.
        var src = x.Overlaps(y) ? new ReadOnlySpan<float>(x.ToArray()) : x;
        TensorPrimitives.Tanh(src, y);
        FixSmallTanh(src, y);
    }

    private const float TanhSeriesLimit = VectorMath.TanhSeriesLimit;

    /// <summary>
    /// TensorPrimitives.Tanh (System.Numerics.Tensors 10.0) cancels for small |x|: tanh(0) comes out
    /// as −6e-8 and the relative error reaches 40% at 1e-7 and 3e-4 at 1e-4. Below |x| = 0.5 we
    /// recompute with the Maclaurin series to x¹⁵ (coefficients 2²ⁿ(2²ⁿ−1)B₂ₙ/(2n)!), whose truncation
    /// error there is under 1e-8 relative; above it the library is within a few ulp.
    /// </summary>
    private static void FixSmallTanh(ReadOnlySpan<float> x, Span<float> y)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var limit = new Vector<float>(TanhSeriesLimit);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(x[i..]);
                var small = Vector.LessThan(Vector.Abs(v), limit);
                if (small == Vector<int>.Zero) continue;
                var z = v * v;
                var p = new Vector<float>(VectorMath.TanhC15);
                p = p * z + new Vector<float>(VectorMath.TanhC13);
                p = p * z + new Vector<float>(VectorMath.TanhC11);
                p = p * z + new Vector<float>(VectorMath.TanhC9);
                p = p * z + new Vector<float>(VectorMath.TanhC7);
                p = p * z + new Vector<float>(VectorMath.TanhC5);
                p = p * z + new Vector<float>(VectorMath.TanhC3);
                Vector.ConditionalSelect(small, v + v * z * p, new Vector<float>(y[i..])).CopyTo(y[i..]);
            }
        }
        for (; i < x.Length; i++)
            if (MathF.Abs(x[i]) < TanhSeriesLimit) y[i] = MathF.Tanh(x[i]);
    }
}
