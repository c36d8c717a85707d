using Nabla.Kernels;
using Nabla.Kernels.Cuda;

namespace Nabla;

/// <summary>
/// <see cref="Device.Cuda"/>'s checks, in the order a user would fix them (driver, device), and the CUDA device itself:
/// each session gets a <see cref="CudaBackend"/> over its own <see cref="DriverCudaDevice"/> (the device's primary
/// context, one stream, cuBLAS and cuDNN handles). Kernel-layer <see cref="CudaException"/>s are wrapped in
/// <see cref="DeviceException"/> here, at the public edge, because Nabla.Kernels cannot reference the engine's exception
/// types: the backend passes every one through <see cref="Wrap"/>.
/// </summary>
/// <remarks>UNVERIFIED on hardware: this build's CUDA backend has run only on the tests' PTX emulator.</remarks>
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
        try
        {
            // Asked now so that a broken device fails here, not in the first session.
            _ = CudaDriver.DeviceName(CudaDriver.Device(ordinal));
        }
        catch (CudaException e)
        {
            throw new DeviceException($"CUDA device {ordinal} is unavailable: {e.Message}. Use Device.Cpu.", e);
        }
        var name = $"cuda:{ordinal}";
        return new CudaDevice(name, () => new DriverCudaDevice(ordinal));
    }

    /// <summary>
    /// A device whose sessions run <see cref="CudaBackend"/> over the <see cref="ICudaDevice"/> that <paramref name="open"/>
    /// returns (one per session): how the tests run the engine on the PTX emulator.
    /// </summary>
    internal static Device Over(string name, Func<ICudaDevice> open) => new CudaDevice(name, open);

    /// <summary>What users see of a failed CUDA call: a <see cref="DeviceException"/> naming the device, the call and the status.</summary>
    internal static Exception Wrap(string device, CudaException e) => new DeviceException($"{device}: {e.Message}", e);

    private sealed class CudaDevice(string name, Func<ICudaDevice> open) : Device
    {
        public override string Name => name;

        internal override IBackend CreateBackend(SessionOptions options)
        {
            ICudaDevice device;
            try
            {
                device = open();
            }
            catch (CudaException e)
            {
                throw new DeviceException($"{name} could not be opened for a session: {e.Message}", e);
            }
            return new CudaBackend(device, options.AllowTf32, e => Wrap(name, e));
        }
    }
}
