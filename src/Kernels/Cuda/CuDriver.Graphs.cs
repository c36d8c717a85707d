using System.Runtime.InteropServices;

namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: signatures transcribed from cuda.h (CUDA 12.x); the _v2 name is the symbol cuda.h's
// `#define cuStreamBeginCapture __CUDA_API_PTSZ(cuStreamBeginCapture_v2)` selects without per-thread default streams.

/// <summary>CUstreamCaptureMode: which CUDA calls made during a stream capture are refused as potentially unsafe.</summary>
internal enum CuStreamCaptureMode
{
    /// <summary>Unsafe calls from any thread fail while any global-mode capture is in progress.</summary>
    Global = 0,

    /// <summary>Unsafe calls (cuMemAlloc, cuMemFree, synchronising calls) from the capturing thread fail; other threads are unaffected.</summary>
    ThreadLocal = 1,

    /// <summary>Nothing is refused.</summary>
    Relaxed = 2,
}

internal static unsafe partial class CuDriver
{
    /// <summary>CUresult CUDA_ERROR_STREAM_CAPTURE_INVALIDATED: the capture was broken by an unsupported call.</summary>
    internal const int ErrorStreamCaptureInvalidated = 901;

    /// <summary>CUresult cuStreamBeginCapture(CUstream hStream, CUstreamCaptureMode mode).</summary>
    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuStreamBeginCapture_v2(nint hStream, CuStreamCaptureMode mode);

    /// <summary>CUresult cuStreamEndCapture(CUstream hStream, CUgraph* phGraph): the captured graph, or an error (and possibly a null graph) when the capture was invalidated.</summary>
    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuStreamEndCapture(nint hStream, out nint phGraph);

    /// <summary>CUresult cuGraphInstantiateWithFlags(CUgraphExec* phGraphExec, CUgraph hGraph, unsigned long long flags); flags 0.</summary>
    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuGraphInstantiateWithFlags(out nint phGraphExec, nint hGraph, ulong flags);

    /// <summary>CUresult cuGraphLaunch(CUgraphExec hGraphExec, CUstream hStream).</summary>
    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuGraphLaunch(nint hGraphExec, nint hStream);

    /// <summary>CUresult cuGraphExecDestroy(CUgraphExec hGraphExec).</summary>
    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuGraphExecDestroy(nint hGraphExec);

    /// <summary>CUresult cuGraphDestroy(CUgraph hGraph).</summary>
    [LibraryImport(CudaLibraries.DriverName)]
    internal static partial int cuGraphDestroy(nint hGraph);
}
