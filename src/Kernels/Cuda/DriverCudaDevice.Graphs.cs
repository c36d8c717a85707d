namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: written without a GPU (session 2026-12-02, helper G5) from cuda.h and cuBLAS's documentation of
// cublasSetWorkspace; bench/gpu/verify.sh runs CudaGraphTests' Gpu fixture on the first GPU machine.

/// <summary>Stream capture into CUDA graphs on the driver (<see cref="ICudaGraphCapture"/>).</summary>
/// <remarks>
/// <para><b>Capture mode.</b> <see cref="CuStreamCaptureMode.ThreadLocal"/>: the capture is begun, filled and ended on one
/// thread, and in this mode the driver refuses any potentially unsafe call (cuMemAlloc, cuMemFree, a synchronising call)
/// made by that thread while it captures, so an allocation that slipped into a captured step fails loudly instead of being
/// silently run once at capture time. Other threads (another session on another device or stream, each replica of a
/// distribution strategy) are unaffected, which <see cref="CuStreamCaptureMode.Global"/> would not allow;
/// <see cref="CuStreamCaptureMode.Relaxed"/> would accept the unsafe calls.</para>
/// <para><b>cuBLAS.</b> A capture that holds GEMMs first gives the cuBLAS handle a fixed workspace (32 MiB on compute
/// capability 9 and later, 4 MiB before, as cuBLAS's documentation of cublasSetWorkspace suggests), allocated once
/// outside any capture: cuBLAS then allocates nothing while captured, and every graph uses the same workspace (the work
/// on the one stream is serial, so graphs never run concurrently).</para>
/// </remarks>
internal sealed unsafe partial class DriverCudaDevice : ICudaGraphCapture
{
    private ulong _cublasWorkspace;
    private bool _capturing;

    /// <inheritdoc/>
    public void BeginCapture(bool withGemm)
    {
        Current();
        if (_capturing) throw new InvalidOperationException($"{Name}: a stream capture is already in progress");
        if (withGemm && _cublasWorkspace == 0)
        {
            var handle = Cublas();
            var (major, _) = CudaDriver.ComputeCapability(_context.Device);
            var bytes = major >= 9 ? 32UL << 20 : 4UL << 20;
            CuDriver.Check(CuDriver.cuMemAlloc_v2(out var workspace, (nuint)bytes), nameof(CuDriver.cuMemAlloc_v2));
            var status = CuBlas.cublasSetWorkspace_v2(handle, workspace, (nuint)bytes);
            if (status != 0)
            {
                // The workspace is useless without the handle taking it; the cuBLAS status is the error to report.
                _ = CuDriver.cuMemFree_v2(workspace);
                CuBlas.Check(status, nameof(CuBlas.cublasSetWorkspace_v2));
            }
            _cublasWorkspace = workspace;
        }
        CuDriver.Check(CuDriver.cuStreamBeginCapture_v2(_context.Stream, CuStreamCaptureMode.ThreadLocal), nameof(CuDriver.cuStreamBeginCapture_v2));
        _capturing = true;
    }

    /// <inheritdoc/>
    public ICudaGraphExec EndCapture()
    {
        Current();
        if (!_capturing) throw new InvalidOperationException($"{Name}: no stream capture is in progress");
        _capturing = false;
        var status = CuDriver.cuStreamEndCapture(_context.Stream, out var graph);
        if (status != 0)
        {
            if (graph != 0) _ = CuDriver.cuGraphDestroy(graph);
            CuDriver.Check(status, nameof(CuDriver.cuStreamEndCapture));
        }
        try
        {
            CuDriver.Check(CuDriver.cuGraphInstantiateWithFlags(out var exec, graph, 0), nameof(CuDriver.cuGraphInstantiateWithFlags));
            return new DriverGraphExec(this, exec);
        }
        finally
        {
            // The executable graph is a copy: the graph itself is not needed once instantiated (or when instantiation failed).
            CuDriver.Check(CuDriver.cuGraphDestroy(graph), nameof(CuDriver.cuGraphDestroy));
        }
    }

    /// <inheritdoc/>
    public void AbortCapture()
    {
        if (!_capturing) return;
        _capturing = false;
        Current();
        // The capture is being discarded because issuing into it failed; that failure is the error the caller reports, so
        // the end status (typically CUDA_ERROR_STREAM_CAPTURE_INVALIDATED) is deliberately not raised.
        _ = CuDriver.cuStreamEndCapture(_context.Stream, out var graph);
        if (graph != 0) _ = CuDriver.cuGraphDestroy(graph);
    }

    /// <summary>Frees cuBLAS's graph workspace (after the handle was destroyed).</summary>
    private void DisposeGraphWorkspace()
    {
        if (_cublasWorkspace == 0) return;
        var workspace = _cublasWorkspace;
        _cublasWorkspace = 0;
        CuDriver.Check(CuDriver.cuMemFree_v2(workspace), nameof(CuDriver.cuMemFree_v2));
    }

    /// <summary>A CUgraphExec launched on the device's stream.</summary>
    private sealed class DriverGraphExec(DriverCudaDevice device, nint exec) : ICudaGraphExec
    {
        private nint _exec = exec;

        public void Launch()
        {
            ObjectDisposedException.ThrowIf(_exec == 0, this);
            device.Current();
            CuDriver.Check(CuDriver.cuGraphLaunch(_exec, device._context.Stream), nameof(CuDriver.cuGraphLaunch));
        }

        public void Dispose()
        {
            if (_exec == 0 || device._disposed) return;
            var exec = _exec;
            _exec = 0;
            device.Current();
            CuDriver.Check(CuDriver.cuGraphExecDestroy(exec), nameof(CuDriver.cuGraphExecDestroy));
        }
    }
}
