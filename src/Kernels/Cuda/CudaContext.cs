namespace Nabla.Kernels.Cuda;

/// <summary>
/// One device's primary context and one non-blocking stream: what a CUDA session will own. The
/// primary context is shared with any other library in the process (as the CUDA runtime does), so
/// cuBLAS and cuDNN handles created later see the same allocations.
/// </summary>
/// <remarks>
/// A context is current per host thread. Call <see cref="MakeCurrent"/> on each thread before memory
/// or launch calls; <see cref="Create"/> makes it current on the creating thread.
/// </remarks>
internal sealed class CudaContext : IDisposable
{
    private bool _disposed;

    private CudaContext(int ordinal, int device, nint context, nint stream)
    {
        Ordinal = ordinal;
        Device = device;
        Context = context;
        Stream = stream;
    }

    /// <summary>Device ordinal as the user numbers it (0 = first visible device).</summary>
    public int Ordinal { get; }

    /// <summary>The CUdevice.</summary>
    public int Device { get; }

    /// <summary>The retained primary CUcontext.</summary>
    public nint Context { get; }

    /// <summary>The CUstream all work of this context is queued on.</summary>
    public nint Stream { get; }

    /// <summary>Initialises the driver (if needed), retains device <paramref name="ordinal"/>'s primary context and creates a stream.</summary>
    /// <exception cref="CudaException">No usable driver, or a driver call failed.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ordinal"/> is not a device of this machine.</exception>
    public static CudaContext Create(int ordinal)
    {
        var info = CudaDriver.RequireAvailable();
        if (ordinal < 0 || ordinal >= info.DeviceCount)
            throw new ArgumentOutOfRangeException(nameof(ordinal), ordinal, $"the CUDA driver reports {info.DeviceCount} device(s)");
        var device = CudaDriver.Device(ordinal);
        CuDriver.Check(CuDriver.cuDevicePrimaryCtxRetain(out var context, device), nameof(CuDriver.cuDevicePrimaryCtxRetain));
        try
        {
            CuDriver.Check(CuDriver.cuCtxSetCurrent(context), nameof(CuDriver.cuCtxSetCurrent));
            CuDriver.Check(CuDriver.cuStreamCreate(out var stream, CuDriver.StreamNonBlocking), nameof(CuDriver.cuStreamCreate));
            return new CudaContext(ordinal, device, context, stream);
        }
        catch
        {
            // Undo the retain; the original failure is the one worth reporting.
            _ = CuDriver.cuDevicePrimaryCtxRelease_v2(device);
            throw;
        }
    }

    /// <summary>Binds this context to the calling thread.</summary>
    public void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CuDriver.Check(CuDriver.cuCtxSetCurrent(Context), nameof(CuDriver.cuCtxSetCurrent));
    }

    /// <summary>Blocks until all work queued on <see cref="Stream"/> has finished; surfaces asynchronous kernel errors.</summary>
    public void Synchronize()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CuDriver.Check(CuDriver.cuStreamSynchronize(Stream), nameof(CuDriver.cuStreamSynchronize));
    }

    /// <summary>Destroys the stream and releases the primary context; driver errors are thrown, not swallowed.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        var destroy = CuDriver.cuStreamDestroy_v2(Stream);
        var release = CuDriver.cuDevicePrimaryCtxRelease_v2(Device);
        CuDriver.Check(destroy, nameof(CuDriver.cuStreamDestroy_v2));
        CuDriver.Check(release, nameof(CuDriver.cuDevicePrimaryCtxRelease_v2));
    }
}
