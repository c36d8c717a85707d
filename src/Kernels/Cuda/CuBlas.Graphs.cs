using System.Runtime.InteropServices;

namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: transcribed from cublas_api.h (cuBLAS 12.x).

internal static unsafe partial class CuBlas
{
    /// <summary>
    /// cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void* workspace, size_t workspaceSizeInBytes): the
    /// device memory cuBLAS uses for its temporaries instead of allocating its own. cuBLAS's documentation recommends it
    /// for CUDA graph capture (no allocation inside the capture, the same workspace in every graph) and suggests 32 MiB on
    /// Hopper, 4 MiB on earlier architectures.
    /// </summary>
    [LibraryImport(CudaLibraries.CublasName)]
    internal static partial int cublasSetWorkspace_v2(nint handle, ulong workspace, nuint workspaceSizeInBytes);
}
