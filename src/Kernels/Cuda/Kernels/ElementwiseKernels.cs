namespace Nabla.Kernels.Cuda;

// IN PROGRESS (session 2026-12-01 e): signatures fixed for CudaBackend; bodies are being written.
// Every method only queues launches on k; arguments were validated by the engine. Offsets and
// strides are in elements; addresses are device addresses of element 0 of the underlying buffer.

/// <summary>The element-wise kernel families on CUDA: fill, cast, strided copy, binary, select and assign (unary, pow and fused programs: ElementwiseKernels.Math.cs).</summary>
internal static partial class ElementwiseKernels
{
    /// <summary>Sets n elements of dtype at dst to value (rounded to the dtype; NaN allowed for floats).</summary>
    public static void Fill(IKernelLauncher k, DType dtype, ulong dst, long n, double value) => throw new NotImplementedException();

    /// <summary>Converts n elements (float→int truncates toward zero; nonzero→true), as IBackend.Cast.</summary>
    public static void Cast(IKernelLauncher k, DType from, ulong src, DType to, ulong dst, long n) => throw new NotImplementedException();

    /// <summary>dst[dstOffset + Σ i·dstStrides] = src[srcOffset + Σ i·srcStrides] over shape, as IBackend.Copy.</summary>
    public static void Copy(IKernelLauncher k, DType dtype, ulong src, long srcOffset, ReadOnlySpan<int> srcStrides,
        ulong dst, long dstOffset, ReadOnlySpan<int> dstStrides, ReadOnlySpan<int> shape) => throw new NotImplementedException();

    /// <summary>y (contiguous, dtype of the result) = op(a, b) over shape with broadcasting strides, as IBackend.Binary; inputs have dtype. Pow goes to <see cref="BinaryPow"/>.</summary>
    public static void Binary(IKernelLauncher k, BinaryOp op, DType dtype, ulong a, long aOffset, ReadOnlySpan<int> aStrides,
        ulong b, long bOffset, ReadOnlySpan<int> bStrides, ulong y, ReadOnlySpan<int> shape) => throw new NotImplementedException();

    /// <summary>y = cond ? a : b over shape (cond is bool), as IBackend.Select.</summary>
    public static void Select(IKernelLauncher k, DType dtype, ulong cond, long condOffset, ReadOnlySpan<int> condStrides,
        ulong a, long aOffset, ReadOnlySpan<int> aStrides, ulong b, long bOffset, ReadOnlySpan<int> bStrides,
        ulong y, ReadOnlySpan<int> shape) => throw new NotImplementedException();

    /// <summary>
    /// variable ← value / variable + value / variable − value over n elements, skipped on the device when
    /// abortFlags (0 = none) holds a failure (any nonzero even-indexed entry of its flagCount int64 entries), as IBackend.Assign.
    /// </summary>
    public static void Assign(IKernelLauncher k, BinaryOp? op, DType dtype, ulong variable, ulong value, long n, ulong abortFlags, int flagCount) =>
        throw new NotImplementedException();
}
