using Nabla.Kernels;
using Nabla.Kernels.Cuda;
using NUnit.Framework;

namespace Nabla.Tests.Kernels.Cuda;

/// <summary>
/// The row-major → column-major mapping CudaBackend hands to cuBLAS, checked without a GPU: a column-major strided batched
/// GEMM written here from cuBLAS's definition (C_i = op(A_i)·op(B_i), element (r, c) of an ld-major matrix at r + c·ld)
/// runs on the mapped arguments and must give the row-major product computed by the textbook triple loop.
/// </summary>
public class GemmMappingTests
{
    /// <summary>cuBLAS's column-major strided batched GEMM with α = 1, β = 0, on host arrays.</summary>
    private static void ColumnMajorGemm(in GemmMapping p, double[] a, double[] b, double[] c, int batch)
    {
        for (var i = 0; i < batch; i++)
            for (var col = 0; col < p.N; col++)
                for (var row = 0; row < p.M; row++)
                {
                    var sum = 0.0;
                    for (var k = 0; k < p.K; k++)
                    {
                        // op(A)(row, k): A stored m×k (N) or k×m (T), column-major with leading dimension lda.
                        var av = p.TransA ? a[i * p.StrideA + k + row * p.Lda] : a[i * p.StrideA + row + k * p.Lda];
                        var bv = p.TransB ? b[i * p.StrideB + col + k * p.Ldb] : b[i * p.StrideB + k + col * p.Ldb];
                        sum += av * bv;
                    }
                    c[i * p.StrideC + row + col * p.Ldc] = sum;
                }
    }

    [TestCase(1, 3, 4, 5, false, false, 15L, 20L)]
    [TestCase(1, 3, 4, 5, true, false, 15L, 20L)]
    [TestCase(1, 3, 4, 5, false, true, 15L, 20L)]
    [TestCase(1, 3, 4, 5, true, true, 15L, 20L)]
    [TestCase(3, 2, 7, 3, false, false, 6L, 21L)]
    [TestCase(3, 2, 7, 3, true, true, 6L, 21L)]
    [TestCase(4, 5, 1, 2, false, true, 0L, 2L)] // A shared by every batch
    [TestCase(4, 1, 6, 3, true, false, 3L, 0L)] // B shared by every batch
    public void MappedColumnMajorGemmIsTheRowMajorProduct(int batch, int m, int n, int k, bool transA, bool transB, long strideA, long strideB)
    {
        var args = new MatMulArgs(batch, m, n, k, transA, transB, strideA, strideB);
        var rng = new Random(11);
        var aMatrices = strideA == 0 ? 1 : batch;
        var bMatrices = strideB == 0 ? 1 : batch;
        var a = Enumerable.Range(0, aMatrices * m * k).Select(_ => (double)rng.Next(-9, 10)).ToArray();
        var b = Enumerable.Range(0, bMatrices * k * n).Select(_ => (double)rng.Next(-9, 10)).ToArray();
        var expected = new double[batch * m * n];
        for (var i = 0; i < batch; i++)
            for (var r = 0; r < m; r++)
                for (var c = 0; c < n; c++)
                {
                    var sum = 0.0;
                    for (var t = 0; t < k; t++)
                    {
                        // Row-major: A is M×K (or K×M when transposed), B is K×N (or N×K).
                        var av = transA ? a[i * strideA + t * m + r] : a[i * strideA + r * k + t];
                        var bv = transB ? b[i * strideB + c * k + t] : b[i * strideB + t * n + c];
                        sum += av * bv;
                    }
                    expected[(i * m + r) * n + c] = sum;
                }
        var p = GemmMapping.Of(args);
        var actual = new double[batch * m * n];
        // cuBLAS's A operand is the row-major B, its B operand the row-major A.
        ColumnMajorGemm(p, b, a, actual, batch);
        Assert.That(actual, Is.EqualTo(expected));
        Assert.That((p.M, p.N, p.K, p.Ldc), Is.EqualTo((n, m, k, n)), "cuBLAS computes the N×M column-major Cᵀ");
    }
}
