using System.Runtime.Intrinsics;

namespace Nabla.Kernels.Cpu;

public static partial class Gemm
{
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
