using System.Numerics;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels.Cpu;

public static partial class Gemm
{
    /// <summary>
    /// C[m×n] (+)= op(A)·op(B) on raw pointers with leading dimensions, for the kernels that work on chunks
    /// (convolution, recurrent layers): float32 runs the packed SIMD GEMM, across the cores when
    /// <paramref name="parallel"/> and the operands are contiguous, otherwise single-threaded (<see cref="MultiplyStrided"/>);
    /// float64 runs a plain loop (graphs built in float64 on the CPU device; the reference backend is the oracle).
    /// </summary>
    internal static unsafe void Product<T>(bool transA, bool transB, int m, int n, int k, T* a, nint lda, T* b, nint ldb, T* c, nint ldc,
        bool accumulate, bool parallel) where T : unmanaged, INumber<T>
    {
        if (m == 0 || n == 0) return;
        if (typeof(T) == typeof(float))
        {
            if (parallel && !accumulate && lda == (transA ? m : k) && ldb == (transB ? k : n) && ldc == n)
                Multiply(transA, transB, m, n, k, new ReadOnlySpan<float>(a, transA ? k * m : m * k), new ReadOnlySpan<float>(b, k * n), new Span<float>(c, m * n));
            else
                MultiplyStrided(transA, transB, m, n, k, (float*)a, lda, (float*)b, ldb, (float*)c, ldc, accumulate);
            return;
        }
        for (var i = 0; i < m; i++)
        {
            var row = c + i * ldc;
            if (!accumulate) new Span<T>(row, n).Clear();
            for (var p = 0; p < k; p++)
            {
                var av = transA ? a[p * lda + i] : a[i * lda + p];
                for (var j = 0; j < n; j++) row[j] += av * (transB ? b[j * ldb + p] : b[p * ldb + j]);
            }
        }
    }

    /// <summary>
    /// Single-threaded C[m×n] (row stride <paramref name="ldc"/>) = op(A)·op(B), or C += op(A)·op(B) with
    /// <paramref name="accumulate"/>, on raw pointers with leading dimensions: the convolution kernels run one of
    /// these per core on their own chunk of rows (im2col workspace) instead of splitting one product across cores.
    /// </summary>
    internal static unsafe void MultiplyStrided(bool transA, bool transB, int m, int n, int k, float* a, nint lda, float* b, nint ldb,
        float* c, nint ldc, bool accumulate)
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate)
                for (var i = 0; i < m; i++) new Span<float>(c + i * ldc, n).Clear();
            return;
        }
        if (GemmSkinny.Applies(transB, m, n))
        {
            GemmSkinny.Run(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            return;
        }
        if (Vector512.IsHardwareAccelerated)
        {
            GemmDriver<GemmKernel512>.Run(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            return;
        }
        if (Vector256.IsHardwareAccelerated)
        {
            GemmDriver<GemmKernel256>.Run(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            return;
        }
        for (var i = 0; i < m; i++)
            for (var j = 0; j < n; j++)
            {
                var sum = accumulate ? c[i * ldc + j] : 0f;
                for (var p = 0; p < k; p++)
                    sum += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                c[i * ldc + j] = sum;
            }
    }
}
