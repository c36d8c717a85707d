namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware (see CudaBackend.cs).

internal sealed partial class CudaBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// cuBLAS is column-major, and a row-major r×c matrix is, byte for byte, its column-major c×r transpose. So the
    /// row-major product C = op(A)·op(B) (M×N) is computed as the column-major product Cᵀ = op(B)ᵀ·op(A)ᵀ (N×M, ldc = N):
    /// cuBLAS's first operand is B with B's transpose flag (leading dimension N when B is stored K×N, K when stored N×K),
    /// its second is A with A's flag (leading dimension K when A is stored M×K, M when stored K×M). Batch strides pass
    /// through (0 reuses one matrix, as cuBLAS allows); C's is M·N. K = 0 gives C = 0 without a GEMM (cuBLAS rejects a
    /// leading dimension of 0). TF32 only with <see cref="AllowTf32"/>.
    /// </remarks>
    public void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, in MatMulArgs args)
    {
        CudaBuffer ab = B(a, nameof(a)), bb = B(b, nameof(b)), cb = B(c, nameof(c));
        if (cb.DType is not (DType.Float32 or DType.Float64))
            throw new NotSupportedException($"MatMul on {Name} is defined for float32 and float64, not {cb.DType.Name()}");
        var m = args;
        if ((long)m.Batch * m.M * m.N == 0) return;
        if (m.K == 0)
        {
            Fill(cb, 0);
            return;
        }
        var p = GemmMapping.Of(m);
        Guard(() => _device.GemmStridedBatched(cb.DType, p.TransA, p.TransB, p.M, p.N, p.K, 1.0, bb.Address, p.Lda, p.StrideA,
            ab.Address, p.Ldb, p.StrideB, 0.0, cb.Address, p.Ldc, p.StrideC, m.Batch, AllowTf32));
    }
}

/// <summary>
/// The column-major GEMM that computes a row-major <see cref="MatMulArgs"/> product (see <see cref="CudaBackend.MatMul"/>):
/// cuBLAS's A operand is the row-major B, its B operand the row-major A.
/// </summary>
internal readonly record struct GemmMapping(bool TransA, bool TransB, int M, int N, int K, int Lda, long StrideA, int Ldb, long StrideB, int Ldc, long StrideC)
{
    /// <summary>The mapping of a row-major product.</summary>
    public static GemmMapping Of(in MatMulArgs args) => new(
        TransA: args.TransB, TransB: args.TransA,
        M: args.N, N: args.M, K: args.K,
        Lda: args.TransB ? args.K : args.N, StrideA: args.BatchStrideB,
        Ldb: args.TransA ? args.M : args.K, StrideB: args.BatchStrideA,
        Ldc: args.N, StrideC: (long)args.M * args.N);
}
