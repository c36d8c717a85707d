using Nabla.Kernels.Cuda;

namespace Nabla.Tests.Support;

/// <summary>
/// Stream capture on the emulator (<see cref="ICudaGraphCapture"/>), as the driver's thread-local mode behaves: between
/// <see cref="BeginCapture"/> and <see cref="EndCapture"/> launches, device-to-device copies, memsets and GEMMs are kept,
/// not run; an allocation, free, host transfer or wait is refused with CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED and
/// invalidates the capture (<see cref="EndCapture"/> then fails with CUDA_ERROR_STREAM_CAPTURE_INVALIDATED). A graph's
/// <see cref="ICudaGraphExec.Launch"/> runs the kept operations in order, through the same checks as eager calls.
/// </summary>
internal sealed partial class EmulatedCudaDevice : ICudaGraphCapture
{
    private List<Action>? _captured;
    private string? _captureInvalidatedBy;

    /// <summary>Captures begun so far.</summary>
    public int CapturesBegun { get; private set; }

    /// <summary>Graph launches so far.</summary>
    public int GraphLaunches { get; private set; }

    /// <summary>Graphs instantiated and not yet destroyed.</summary>
    public int LiveGraphs { get; private set; }

    /// <summary>Whether a capture is in progress.</summary>
    public bool Capturing => _captured is not null;

    /// <inheritdoc/>
    public void BeginCapture(bool withGemm)
    {
        Check();
        if (_captured is not null) throw new CudaException("cuStreamBeginCapture_v2 failed: CUDA_ERROR_ILLEGAL_STATE (401): the stream is already capturing");
        _captured = [];
        _captureInvalidatedBy = null;
        CapturesBegun++;
    }

    /// <inheritdoc/>
    public ICudaGraphExec EndCapture()
    {
        Check();
        if (_captured is not { } ops) throw new CudaException("cuStreamEndCapture failed: CUDA_ERROR_ILLEGAL_STATE (401): the stream is not capturing");
        _captured = null;
        if (_captureInvalidatedBy is { } call)
            throw new CudaException($"cuStreamEndCapture failed: CUDA_ERROR_STREAM_CAPTURE_INVALIDATED (901): {call} was called during the capture");
        LiveGraphs++;
        return new EmulatedGraphExec(this, ops.ToArray());
    }

    /// <inheritdoc/>
    public void AbortCapture()
    {
        _captured = null;
        _captureInvalidatedBy = null;
    }

    /// <summary>While capturing, keeps <paramref name="operation"/> for the graph and returns true; otherwise false (run it now).</summary>
    private bool Captures(Action operation)
    {
        if (_captured is null) return false;
        _captured.Add(operation);
        return true;
    }

    /// <summary>Refuses a call that thread-local capture mode forbids, invalidating the capture, as the driver does.</summary>
    private void RefuseWhileCapturing(string call)
    {
        if (_captured is null) return;
        _captureInvalidatedBy ??= call;
        throw new CudaException($"{call} failed: CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED (900): not permitted while the stream is capturing (thread-local mode)");
    }

    private sealed class EmulatedGraphExec(EmulatedCudaDevice device, Action[] ops) : ICudaGraphExec
    {
        private bool _destroyed;

        public void Launch()
        {
            ObjectDisposedException.ThrowIf(_destroyed, this);
            device.Check();
            if (device._captured is not null) throw new CudaException("cuGraphLaunch failed: CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED (900): the stream is capturing");
            device.GraphLaunches++;
            foreach (var op in ops) op();
        }

        public void Dispose()
        {
            if (_destroyed) return;
            _destroyed = true;
            device.LiveGraphs--;
        }
    }
}
