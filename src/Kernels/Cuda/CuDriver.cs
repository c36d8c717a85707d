using System.Runtime.InteropServices;

namespace Nabla.Kernels.Cuda;

/// <summary>Device attributes queried through <see cref="CuDriver.cuDeviceGetAttribute"/> (CUdevice_attribute).</summary>
internal enum CuDeviceAttribute
{
    MaxThreadsPerBlock = 1,
    MultiprocessorCount = 16,
    ComputeCapabilityMajor = 75,
    ComputeCapabilityMinor = 76,
}

/// <summary>
/// Thin bindings to the CUDA driver API (libcuda). Signatures transcribed from cuda.h of CUDA 12.6;
/// the <c>_v2</c> names are the symbols that header's <c>#define</c>s select (cuMemAlloc → cuMemAlloc_v2,
/// cuDevicePrimaryCtxRelease → cuDevicePrimaryCtxRelease_v2, ...), so these bind the same ABI a C
/// program compiled against CUDA 12 calls. Every function returns a CUresult; callers pass it through
/// <see cref="Check"/>.
/// </summary>
/// <remarks>
/// Handle types map as: CUdevice → int, CUdeviceptr → ulong, CUcontext/CUmodule/CUfunction/CUstream/
/// CUevent → nint, size_t → nuint. Strings are passed as NUL-terminated UTF-8 <c>byte*</c> so every
/// signature stays blittable. No call sets errno, hence no SetLastError.
/// </remarks>
internal static unsafe partial class CuDriver
{
    /// <summary>CU_STREAM_NON_BLOCKING: the stream does not synchronise with the legacy default stream.</summary>
    internal const uint StreamNonBlocking = 0x1;

    /// <summary>CU_EVENT_DEFAULT (timing enabled).</summary>
    internal const uint EventDefault = 0x0;

    /// <summary>CU_EVENT_DISABLE_TIMING: cheaper events for pure synchronisation.</summary>
    internal const uint EventDisableTiming = 0x2;

    /// <summary>CU_MEMHOSTALLOC_PORTABLE: pinned memory usable from every context.</summary>
    internal const uint MemHostAllocPortable = 0x1;

    // Installs the resolver before the first binding is resolved (see CudaLibraries.RegisterResolver).
#pragma warning disable CA1810 // an explicit static constructor is what guarantees it runs before a P/Invoke
    static CuDriver() => CudaLibraries.RegisterResolver();
#pragma warning restore CA1810

    /// <summary>Throws <see cref="CudaException"/> naming <paramref name="call"/> unless <paramref name="status"/> is CUDA_SUCCESS.</summary>
    internal static void Check(int status, string call)
    {
        if (status != 0) throw CudaStatus.Error(CudaLibrary.Driver, status, call);
    }

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuInit(uint flags);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuDriverGetVersion(out int driverVersion);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuGetErrorName(int error, out nint pStr);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuDeviceGetCount(out int count);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuDeviceGet(out int device, int ordinal);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuDeviceGetName(byte* name, int len, int dev);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuDeviceGetAttribute(out int pi, CuDeviceAttribute attrib, int dev);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuDeviceTotalMem_v2(out nuint bytes, int dev);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuDevicePrimaryCtxRetain(out nint pctx, int dev);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuDevicePrimaryCtxRelease_v2(int dev);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuCtxSetCurrent(nint ctx);

    /// <summary><paramref name="image"/> is a NUL-terminated PTX text (or a cubin/fatbin).</summary>
    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuModuleLoadData(out nint module, void* image);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuModuleUnload(nint hmod);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuModuleGetFunction(out nint hfunc, nint hmod, byte* name);

    /// <summary>
    /// <paramref name="kernelParams"/> is an array of pointers, one per kernel parameter, each
    /// pointing at that parameter's value; <paramref name="extra"/> is null here.
    /// </summary>
    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuLaunchKernel(nint f, uint gridDimX, uint gridDimY, uint gridDimZ,
        uint blockDimX, uint blockDimY, uint blockDimZ, uint sharedMemBytes, nint hStream, void** kernelParams, void** extra);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuMemAlloc_v2(out ulong dptr, nuint bytesize);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuMemFree_v2(ulong dptr);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuMemcpyHtoDAsync_v2(ulong dstDevice, void* srcHost, nuint byteCount, nint hStream);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuMemcpyDtoHAsync_v2(void* dstHost, ulong srcDevice, nuint byteCount, nint hStream);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuMemcpyDtoDAsync_v2(ulong dstDevice, ulong srcDevice, nuint byteCount, nint hStream);

    /// <summary>Sets <paramref name="n"/> 32-bit words (not bytes) to <paramref name="ui"/>.</summary>
    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuMemsetD32Async(ulong dstDevice, uint ui, nuint n, nint hStream);

    /// <summary>Sets <paramref name="n"/> bytes to <paramref name="uc"/>.</summary>
    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuMemsetD8Async(ulong dstDevice, byte uc, nuint n, nint hStream);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuMemHostAlloc(out nint pp, nuint bytesize, uint flags);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuMemFreeHost(nint p);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuStreamCreate(out nint phStream, uint flags);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuStreamSynchronize(nint hStream);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuStreamDestroy_v2(nint hStream);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuEventCreate(out nint phEvent, uint flags);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuEventRecord(nint hEvent, nint hStream);

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuEventSynchronize(nint hEvent);

    /// <summary>
    /// The exports tried for <see cref="EventElapsedTime"/>, in order. cuEventElapsedTime_v2 (same
    /// signature, <c>CUresult (float* pMilliseconds, CUevent hStart, CUevent hEnd)</c>) arrived with
    /// CUDA 12.8 and is the only one CUDA 13's cuda.h declares; drivers older than 12.8 export only
    /// cuEventElapsedTime.
    /// </summary>
    internal static readonly string[] EventElapsedTimeExports = ["cuEventElapsedTime_v2", "cuEventElapsedTime"];

    private static delegate* unmanaged<float*, nint, nint, int> s_eventElapsedTime;
    private static string? s_eventElapsedTimeExport;

    /// <summary>
    /// The export <see cref="EventElapsedTime"/> calls (one of <see cref="EventElapsedTimeExports"/>);
    /// null until its first call. Pass it to <see cref="Check"/> as the call's name.
    /// </summary>
    internal static string? EventElapsedTimeExport => s_eventElapsedTimeExport;

    /// <summary>
    /// Milliseconds between two recorded events, through cuEventElapsedTime_v2 where the driver has it,
    /// else cuEventElapsedTime (resolved once, see <see cref="EventElapsedTimeExports"/>). Returns the CUresult.
    /// </summary>
    /// <exception cref="CudaLibraryNotFoundException">No driver.</exception>
    /// <exception cref="EntryPointNotFoundException">The driver exports neither name.</exception>
    internal static int EventElapsedTime(out float milliseconds, nint hStart, nint hEnd)
    {
        var function = s_eventElapsedTime;
        if (function == null)
        {
            var driver = CudaLibraries.Load(CudaLibrary.Driver);
            if (!CudaLibraries.TryGetFirstExport(driver, EventElapsedTimeExports, out var address, out var export))
                throw new EntryPointNotFoundException(
                    $"{CudaLibraries.LoadedName(CudaLibrary.Driver)} exports none of {string.Join(", ", EventElapsedTimeExports)}");
            // A benign race: two threads resolve the same address.
            s_eventElapsedTimeExport = export;
            function = (delegate* unmanaged<float*, nint, nint, int>)address;
            s_eventElapsedTime = function;
        }
        float ms;
        var status = function(&ms, hStart, hEnd);
        milliseconds = ms;
        return status;
    }

    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuEventDestroy_v2(nint hEvent);
}
