namespace Nabla.Kernels.Cuda;

// IN PROGRESS (session 2026-12-01 e): signatures fixed for CudaBackend; bodies are being written.

/// <summary>The element-wise kernels that need the PTX math library (PtxMath): unary functions, pow, and fused programs.</summary>
internal static partial class ElementwiseKernels
{
    /// <summary>y = op(x) over n contiguous elements, as IBackend.Unary.</summary>
    public static void Unary(IKernelLauncher k, UnaryOp op, DType dtype, ulong x, ulong y, long n) => throw new NotImplementedException();

    /// <summary>y = a^b over shape with broadcasting strides (float32/float64, and int32/int64 as IBackend.Binary defines Pow), called by <see cref="Binary"/>.</summary>
    public static void BinaryPow(IKernelLauncher k, DType dtype, ulong a, long aOffset, ReadOnlySpan<int> aStrides,
        ulong b, long bOffset, ReadOnlySpan<int> bStrides, ulong y, ReadOnlySpan<int> shape) => throw new NotImplementedException();

    /// <summary>Runs a fused element-wise program (one generated PTX kernel per program), as IBackend.Fused.</summary>
    public static void Fused(IKernelLauncher k, FusedProgram program, ReadOnlySpan<ulong> inputs, ReadOnlySpan<ulong> outputs, ReadOnlySpan<ulong> counters) =>
        throw new NotImplementedException();
}
