using System.Numerics.Tensors;

namespace Nabla.Kernels.Cpu;

/// <summary>float32 unary kernels on TensorPrimitives; ops it lacks fall back to the scalar definitions.</summary>
internal static class CpuUnary
{
    private const int Chunk = 1 << 15;

    public static bool TryFloat(UnaryOp op, float[] x, float[] y)
    {
        // Some TensorPrimitives functions (Sigmoid) reject empty spans.
        if (x.Length == 0) return true;
        if (x.Length >= 2 * Chunk)
        {
            // Large arrays: split into chunks so both cores work; each chunk is one vectorised call.
            var ok = true;
            Parallel.For(0, (x.Length + Chunk - 1) / Chunk, c =>
            {
                var start = c * Chunk;
                var len = Math.Min(Chunk, x.Length - start);
                if (!Apply(op, x.AsSpan(start, len), y.AsSpan(start, len))) ok = false;
            });
            return ok;
        }
        return Apply(op, x, y);
    }

    private static bool Apply(UnaryOp op, ReadOnlySpan<float> x, Span<float> y)
    {
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(x, y); return true;
            case UnaryOp.Abs: TensorPrimitives.Abs(x, y); return true;
            case UnaryOp.Square: TensorPrimitives.Multiply(x, x, y); return true;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); return true;
            case UnaryOp.Rsqrt: TensorPrimitives.ReciprocalSqrt(x, y); return true;
            case UnaryOp.Reciprocal: TensorPrimitives.Reciprocal(x, y); return true;
            case UnaryOp.Exp: TensorPrimitives.Exp(x, y); return true;
            case UnaryOp.Log: TensorPrimitives.Log(x, y); return true;
            case UnaryOp.Sin: TensorPrimitives.Sin(x, y); return true;
            case UnaryOp.Cos: TensorPrimitives.Cos(x, y); return true;
            case UnaryOp.Tanh: TensorPrimitives.Tanh(x, y); return true;
            case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(x, y); return true;
            case UnaryOp.Relu: TensorPrimitives.Max(x, 0f, y); return true;
            default:
                for (var i = 0; i < x.Length; i++) y[i] = (float)ScalarMath.Apply(op, x[i]);
                return true;
        }
    }
}
