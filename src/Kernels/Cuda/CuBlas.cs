using System.Runtime.InteropServices;

namespace Nabla.Kernels.Cuda;

/// <summary>cublasOperation_t.</summary>
internal enum CublasOperation
{
    N = 0,
    T = 1,
    C = 2,
}

/// <summary>cublasMath_t; <see cref="Tf32TensorOp"/> is the TF32 switch for float32 GEMMs.</summary>
internal enum CublasMath
{
    Default = 0,
    Pedantic = 2,
    /// <summary>Lets float32 routines use TF32 tensor cores (10-bit mantissa products, float32 accumulation).</summary>
    Tf32TensorOp = 3,
    DisallowReducedPrecisionReduction = 16,
}

/// <summary>cublasComputeType_t (the compute type of cublasGemmEx since CUDA 11).</summary>
internal enum CublasComputeType
{
    Compute16F = 64,
    Compute32F = 68,
    Compute32FPedantic = 69,
    Compute64F = 70,
    Compute32I = 72,
    Compute32FFast16F = 74,
    Compute32FFast16BF = 75,
    Compute32FFastTF32 = 77,
}

/// <summary>cudaDataType (library_types.h): element types of cublasGemmEx operands.</summary>
internal enum CudaDataType
{
    R32F = 0,
    R64F = 1,
    R16F = 2,
    R8I = 3,
    R32I = 10,
    R16BF = 14,
}

/// <summary>cublasGemmAlgo_t; only the heuristic choices are used.</summary>
internal enum CublasGemmAlgo
{
    Default = -1,
    DefaultTensorOp = 99,
}

/// <summary>
/// Thin bindings to cuBLAS (v2 API). Signatures transcribed from cublas_api.h of cuBLAS 12.6, whose
/// exported symbols are the <c>_v2</c> names for the routines that have them (cublasCreate_v2,
/// cublasSgemm_v2, ...) and the plain names for the rest (cublasSgemmStridedBatched, cublasGemmEx,
/// cublasSetMathMode). Matrices are column-major; device pointers are passed as CUdeviceptr (ulong).
/// Every function but <see cref="cublasGetStatusName"/> returns a cublasStatus_t; pass it to <see cref="Check"/>.
/// </summary>
/// <remarks>Scalars (alpha, beta) are host pointers: the handle's pointer mode is left at CUBLAS_POINTER_MODE_HOST.</remarks>
internal static unsafe partial class CuBlas
{
#pragma warning disable CA1810 // see CuDriver's static constructor
    static CuBlas() => CudaLibraries.RegisterResolver();
#pragma warning restore CA1810

    /// <summary>Throws <see cref="CudaException"/> naming <paramref name="call"/> unless <paramref name="status"/> is CUBLAS_STATUS_SUCCESS.</summary>
    internal static void Check(int status, string call)
    {
        if (status != 0) throw CudaStatus.Error(CudaLibrary.Cublas, status, call);
    }

    [LibraryImport(CudaLibraries.CublasName)]
    internal static partial int cublasCreate_v2(out nint handle);

    [LibraryImport(CudaLibraries.CublasName)]
    internal static partial int cublasDestroy_v2(nint handle);

    [LibraryImport(CudaLibraries.CublasName)]
    internal static partial int cublasSetStream_v2(nint handle, nint streamId);

    [LibraryImport(CudaLibraries.CublasName)]
    internal static partial int cublasSetMathMode(nint handle, CublasMath mode);

    /// <summary>Returns a static C string such as "CUBLAS_STATUS_INVALID_VALUE".</summary>
    [LibraryImport(CudaLibraries.CublasName)]
    internal static partial nint cublasGetStatusName(int status);

    /// <summary>C = alpha·op(A)·op(B) + beta·C, column-major, op(A) m×k, op(B) k×n.</summary>
    [LibraryImport(CudaLibraries.CublasName)]
    internal static partial int cublasSgemm_v2(nint handle, CublasOperation transa, CublasOperation transb,
        int m, int n, int k, in float alpha, ulong a, int lda, ulong b, int ldb, in float beta, ulong c, int ldc);

    /// <summary>The same GEMM over <paramref name="batchCount"/> matrices at fixed element strides.</summary>
    [LibraryImport(CudaLibraries.CublasName)]
    internal static partial int cublasSgemmStridedBatched(nint handle, CublasOperation transa, CublasOperation transb,
        int m, int n, int k, in float alpha, ulong a, int lda, long strideA, ulong b, int ldb, long strideB,
        in float beta, ulong c, int ldc, long strideC, int batchCount);

    /// <summary>The float64 form of <see cref="cublasSgemmStridedBatched"/> (same cublas_api.h signature with double scalars and matrices).</summary>
    [LibraryImport(CudaLibraries.CublasName)]
    internal static partial int cublasDgemmStridedBatched(nint handle, CublasOperation transa, CublasOperation transb,
        int m, int n, int k, in double alpha, ulong a, int lda, long strideA, ulong b, int ldb, long strideB,
        in double beta, ulong c, int ldc, long strideC, int batchCount);

    /// <summary>
    /// Mixed-type GEMM. <paramref name="alpha"/> and <paramref name="beta"/> point at scalars of the
    /// compute type's scale type (float for the 32F compute types, double for 64F).
    /// </summary>
    [LibraryImport(CudaLibraries.CublasName)]
    internal static partial int cublasGemmEx(nint handle, CublasOperation transa, CublasOperation transb,
        int m, int n, int k, void* alpha, ulong a, CudaDataType aType, int lda, ulong b, CudaDataType bType, int ldb,
        void* beta, ulong c, CudaDataType cType, int ldc, CublasComputeType computeType, CublasGemmAlgo algo);
}
