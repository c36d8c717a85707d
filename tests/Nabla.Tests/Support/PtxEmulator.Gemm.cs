using System.Runtime.InteropServices;
using Nabla.Kernels;
using Nabla.Kernels.Cuda;

namespace Nabla.Tests.Support;

/// <summary>
/// cublasGemmStridedBatchedEx on emulated memory, column-major as cuBLAS defines it: for batch i,
/// C_i = α·op(A_i)·op(B_i) + β·C_i with op(A) m×k (A stored m×k with lda ≥ m, or k×m with lda ≥ k when
/// transposed), op(B) k×n, C m×n with ldc ≥ m; element (r, c) of a column-major matrix with leading
/// dimension ld is at r + c·ld, and batch i starts stride·i elements after the first.
/// </summary>
/// <remarks>
/// Float32 accumulates in float32 with fused multiply-adds in k order (as cuBLAS's SGEMM kernels do, up
/// to summation order); with allowTf32 the inputs are first rounded to TF32 (10 mantissa bits, nearest
/// even). Float64 accumulates in double. β = 0 does not read C (NaN there does not propagate), as
/// cuBLAS documents. Invalid arguments are CUBLAS_STATUS_INVALID_VALUE, and any matrix element outside
/// device memory is a <see cref="CudaException"/> naming the operand.
/// </remarks>
internal static class EmulatedGemm
{
    public static void Run(PtxMemory memory, DType dtype, bool transA, bool transB, int m, int n, int k, double alpha,
        ulong a, int lda, long strideA, ulong b, int ldb, long strideB, double beta, ulong c, int ldc, long strideC, int batch, bool allowTf32)
    {
        if (dtype is not (DType.Float32 or DType.Float64)) Invalid($"dtype {dtype} (Float32 or Float64 only)");
        if (m < 0 || n < 0 || k < 0 || batch < 0) Invalid($"m={m}, n={n}, k={k}, batch={batch} must be ≥ 0");
        if (lda < Math.Max(1, transA ? k : m)) Invalid($"lda={lda} < {(transA ? "k" : "m")}={(transA ? k : m)}");
        if (ldb < Math.Max(1, transB ? n : k)) Invalid($"ldb={ldb} < {(transB ? "n" : "k")}={(transB ? n : k)}");
        if (ldc < Math.Max(1, m)) Invalid($"ldc={ldc} < m={m}");
        if (m == 0 || n == 0 || batch == 0) return;
        var size = dtype == DType.Float32 ? 4 : 8;
        // Column-major extents: rows × cols stored with ld elements per column.
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        for (var i = 0; i < batch; i++)
        {
            var ai = a + (ulong)(strideA * i * size);
            var bi = b + (ulong)(strideB * i * size);
            var ci = c + (ulong)(strideC * i * size);
            if (dtype == DType.Float32)
            {
                var A = MemoryMarshal.Cast<byte, float>(Matrix(memory, "A", i, ai, aRows, aCols, lda, size, k > 0));
                var B = MemoryMarshal.Cast<byte, float>(Matrix(memory, "B", i, bi, bRows, bCols, ldb, size, k > 0));
                var C = MemoryMarshal.Cast<byte, float>(Matrix(memory, "C", i, ci, m, n, ldc, size, true));
                for (var col = 0; col < n; col++)
                    for (var row = 0; row < m; row++)
                    {
                        var sum = 0f;
                        for (var p = 0; p < k; p++)
                        {
                            var x = transA ? A[p + row * lda] : A[row + p * lda];
                            var y = transB ? B[col + p * ldb] : B[p + col * ldb];
                            if (allowTf32) (x, y) = (Tf32(x), Tf32(y));
                            sum = MathF.FusedMultiplyAdd(x, y, sum);
                        }
                        ref var z = ref C[row + col * ldc];
                        z = beta == 0 ? (float)alpha * sum : MathF.FusedMultiplyAdd((float)alpha, sum, (float)beta * z);
                    }
            }
            else
            {
                var A = MemoryMarshal.Cast<byte, double>(Matrix(memory, "A", i, ai, aRows, aCols, lda, size, k > 0));
                var B = MemoryMarshal.Cast<byte, double>(Matrix(memory, "B", i, bi, bRows, bCols, ldb, size, k > 0));
                var C = MemoryMarshal.Cast<byte, double>(Matrix(memory, "C", i, ci, m, n, ldc, size, true));
                for (var col = 0; col < n; col++)
                    for (var row = 0; row < m; row++)
                    {
                        var sum = 0d;
                        for (var p = 0; p < k; p++)
                            sum = Math.FusedMultiplyAdd(transA ? A[p + row * lda] : A[row + p * lda], transB ? B[col + p * ldb] : B[p + col * ldb], sum);
                        ref var z = ref C[row + col * ldc];
                        z = beta == 0 ? alpha * sum : Math.FusedMultiplyAdd(alpha, sum, beta * z);
                    }
            }
        }
    }

    /// <summary>The bytes of a column-major rows×cols matrix with leading dimension ld (the last column only up to its last row).</summary>
    private static Span<byte> Matrix(PtxMemory memory, string name, int batch, ulong address, int rows, int cols, int ld, int size, bool used)
    {
        if (!used || rows == 0 || cols == 0) return [];
        var elements = (long)(cols - 1) * ld + rows;
        try { return memory.Span(address, elements * size, $"GEMM {name} of batch {batch} ({rows}×{cols}, ld {ld})"); }
        catch (PtxEmulatorException e) { throw new CudaException($"cublasGemmStridedBatchedEx: illegal address (emulated): {e.Message}", e); }
    }

    private static void Invalid(string why) =>
        throw new CudaException($"cublasGemmStridedBatchedEx failed: CUBLAS_STATUS_INVALID_VALUE (7): {why}");

    /// <summary>Rounds to TF32: 10 explicit mantissa bits, to nearest even (NaN and Inf unchanged).</summary>
    private static float Tf32(float x)
    {
        if (!float.IsFinite(x)) return x;
        var bits = BitConverter.SingleToUInt32Bits(x);
        bits += 0xFFFu + ((bits >> 13) & 1);
        return BitConverter.UInt32BitsToSingle(bits & 0xFFFF_E000u);
    }
}
