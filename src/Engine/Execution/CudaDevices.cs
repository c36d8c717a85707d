using Nabla.Kernels.Cuda;

namespace Nabla;

/// <summary>
/// <see cref="Device.Cuda"/>'s checks, in the order a user would fix them: driver, device, backend.
/// Kernel-layer <see cref="CudaException"/>s are wrapped in <see cref="DeviceException"/> here, at the
/// public edge, because Nabla.Kernels cannot reference the engine's exception types.
/// </summary>
internal static class CudaDevices
{
    internal static Device Open(int ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        var info = CudaDriver.Probe();
        if (info.Library is null)
            throw new DeviceException($"CUDA device {ordinal} is unavailable: {info.Reason}. Use Device.Cpu, or install the NVIDIA driver.");
        // A driver that failed cuInit (e.g. CUDA_ERROR_STUB_LIBRARY) or sees no GPU.
        if (!info.Available)
            throw new DeviceException($"CUDA device {ordinal} is unavailable: {info.Reason}. Use Device.Cpu.");
        if (ordinal >= info.DeviceCount)
            throw new DeviceException(
                $"CUDA device {ordinal} does not exist: the CUDA driver ({info.DriverVersionText}) reports {info.DeviceCount} device(s). Use Device.Cpu.");
        string name;
        try
        {
            name = CudaDriver.DeviceName(CudaDriver.Device(ordinal));
        }
        catch (CudaException e)
        {
            throw new DeviceException($"CUDA device {ordinal} is unavailable: {e.Message}. Use Device.Cpu.", e);
        }
        // Honest about this build: bindings, allocator and PTX kernels exist, the IBackend does not.
        throw new DeviceException(
            $"CUDA device {ordinal} ({name}, CUDA driver {info.DriverVersionText}) is present, but this build of Nabla has no CUDA backend yet. Use Device.Cpu.");
    }
}
