using System.Numerics;

namespace Nabla.Kernels.Cpu;

/// <summary>Row-major GEMM C = op(A)·op(B) (C overwritten).</summary>
public static partial class Gemm
{
    /// <summary>float32 product; op(A) is M×K, op(B) is K×N, C is M×N contiguous.</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c)
        => MultiplyNaive(transA, transB, m, n, k, a, b, c);

    /// <summary>Straightforward i-k-j loop for any floating type; used for float64 and as the float32 fallback.</summary>
    public static void MultiplyNaive<T>(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c)
        where T : IFloatingPointIeee754<T>
    {
        c[..(m * n)].Clear();
        for (var i = 0; i < m; i++)
            for (var p = 0; p < k; p++)
            {
                var av = transA ? a[p * m + i] : a[i * k + p];
                var row = c.Slice(i * n, n);
                for (var j = 0; j < n; j++) row[j] += av * (transB ? b[j * k + p] : b[p * n + j]);
            }
    }
}
