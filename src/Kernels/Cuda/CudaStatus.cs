using System.Runtime.InteropServices;

namespace Nabla.Kernels.Cuda;

/// <summary>Turns a failed status into a <see cref="CudaException"/> whose message names the call and the code.</summary>
internal static class CudaStatus
{
    /// <summary>The exception for <paramref name="code"/> returned by <paramref name="call"/>.</summary>
    internal static CudaException Error(CudaLibrary library, int code, string call) =>
        new(library, call, code, Name(library, code));

    /// <summary>
    /// The enumerator name of <paramref name="code"/>: our table first (no native call on an error
    /// path), then the library's own name function when the library is already loaded (a code newer
    /// than our table), else <c>unknown CUresult</c> / <c>unknown cublasStatus_t</c> / <c>unknown cudnnStatus_t</c>.
    /// </summary>
    internal static string Name(CudaLibrary library, int code)
    {
        var name = library switch
        {
            CudaLibrary.Driver => CudaStatusNames.Driver(code),
            CudaLibrary.Cublas => CudaStatusNames.Cublas(code),
            _ => CudaStatusNames.Cudnn(code),
        };
        if (name is null && CudaLibraries.IsLoaded(library)) name = AskLibrary(library, code);
        return name ?? "unknown " + StatusType(library);
    }

    private static string StatusType(CudaLibrary library) => library switch
    {
        CudaLibrary.Driver => "CUresult",
        CudaLibrary.Cublas => "cublasStatus_t",
        _ => "cudnnStatus_t",
    };

    private static string? AskLibrary(CudaLibrary library, int code)
    {
        switch (library)
        {
            case CudaLibrary.Driver:
                // cuGetErrorName returns CUDA_ERROR_INVALID_VALUE for a code it does not know.
                return CuDriver.cuGetErrorName(code, out var p) == 0 && p != 0 ? Marshal.PtrToStringUTF8(p) : null;
            case CudaLibrary.Cublas:
                var b = CuBlas.cublasGetStatusName(code);
                return b == 0 ? null : Marshal.PtrToStringUTF8(b);
            default:
                var d = CuDnn.cudnnGetErrorString(code);
                return d == 0 ? null : Marshal.PtrToStringUTF8(d);
        }
    }
}
