namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: written without a GPU (session 2026-12-02, helper G5); the driver side (DriverCudaDevice.Graphs.cs)
// has only been read against cuda.h; the emulator's capture runs in the tests.

/// <summary>
/// An <see cref="ICudaDevice"/> that can capture the work issued on its stream into a CUDA graph (stream capture) and
/// launch it later: the driver (<c>cuStreamBeginCapture_v2</c> … <c>cuGraphLaunch</c>) and the tests' emulator.
/// </summary>
/// <remarks>
/// Between <see cref="BeginCapture"/> and <see cref="EndCapture"/> (or <see cref="AbortCapture"/>) kernel launches,
/// device-to-device copies, memsets and GEMMs are captured, not run. Allocation, freeing, host transfers and waits are
/// not allowed there (the driver fails them in thread-local capture mode); <see cref="GraphRecorder"/> never issues them
/// inside a capture.
/// </remarks>
internal interface ICudaGraphCapture
{
    /// <summary>Starts capturing the stream. <paramref name="withGemm"/>: the capture will hold cuBLAS calls (cuBLAS is then given a fixed workspace first).</summary>
    void BeginCapture(bool withGemm);

    /// <summary>Ends the capture and instantiates the graph (the captured work has not run).</summary>
    /// <exception cref="CudaException">Capture was invalidated (an unsupported call inside it), or instantiation failed.</exception>
    ICudaGraphExec EndCapture();

    /// <summary>Ends a capture whose issuing failed, discarding whatever it captured; the stream is usable again.</summary>
    void AbortCapture();
}

/// <summary>An instantiated graph (CUgraphExec): launched on the device's stream, in order with the stream's other work.</summary>
internal interface ICudaGraphExec : IDisposable
{
    /// <summary>Queues the whole graph on the stream.</summary>
    void Launch();
}
