namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware (see GraphRecorder.cs and DriverCudaDevice.Graphs.cs): replay equals eager is tested on the
// PTX emulator; the driver's stream capture has not run on a GPU.

/// <summary>Whole-step CUDA graphs (<see cref="IStepGraphs"/>), through the <see cref="GraphRecorder"/> every call of this backend goes through.</summary>
/// <remarks>
/// What a graph holds: the kernel launches (hand-written and generated PTX), device-to-device copies, memsets and cuBLAS
/// GEMMs a run enqueues between <see cref="BeginRecording"/> and <see cref="EndRecording"/>. What stops a recording (the
/// run is then issued eagerly, see <see cref="StepGraphMode.Uncapturable"/>): cuDNN (convolution, pooling: its calls go
/// to the library directly and cannot be recorded), the host-staged AllReduce (it waits for the stream), first-use
/// allocations and uploads (constants, state), and any wait.
/// </remarks>
internal sealed partial class CudaBackend : IStepGraphs
{
    private readonly GraphRecorder _recorder;

    /// <inheritdoc/>
    public void BeginRecording()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _recorder.Begin();
    }

    /// <inheritdoc/>
    public StepGraphResult EndRecording(ref IStepGraph? graph)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try { return _recorder.End(ref graph); }
        catch (CudaException e) when (_wrapErrors is not null) { throw _wrapErrors(e); }
    }

    /// <inheritdoc/>
    public void AbandonRecording()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try { _recorder.Abandon(); }
        catch (CudaException e) when (_wrapErrors is not null) { throw _wrapErrors(e); }
    }

    /// <summary>The cuDNN handle of the device, when it has one; a recording in progress is interrupted first (cuDNN calls cannot be recorded).</summary>
    private nint? CudnnHandle()
    {
        if (_recorder.Inner is not ICudnnDevice d) return null;
        _recorder.Interrupt("cuDNN (its calls go to the library directly)");
        return d.Cudnn;
    }
}
