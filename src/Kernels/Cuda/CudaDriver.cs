using System.Text;

namespace Nabla.Kernels.Cuda;

/// <summary>What the CUDA driver of this machine reports; see <see cref="CudaDriver.Probe"/>.</summary>
/// <param name="Available">True when the driver loaded, cuInit succeeded and at least one device exists.</param>
/// <param name="DriverVersion">CUDA version the driver supports, as 1000·major + 10·minor (12040 = 12.4); 0 without a driver.</param>
/// <param name="DeviceCount">Number of CUDA devices; 0 without a driver.</param>
/// <param name="Library">The soname that was loaded (e.g. <c>libcuda.so.1</c>); null without a driver.</param>
/// <param name="Reason">Why CUDA is unavailable, e.g. <c>no CUDA driver (libcuda.so.1 not found; probed: libcuda.so.1, libcuda.so)</c>; null when available.</param>
public sealed record CudaDriverInfo(bool Available, int DriverVersion, int DeviceCount, string? Library, string? Reason)
{
    /// <summary><see cref="DriverVersion"/> as "major.minor", or "none".</summary>
    public string DriverVersionText => DriverVersion == 0 ? "none" : $"{DriverVersion / 1000}.{DriverVersion % 1000 / 10}";
}

/// <summary>Driver initialisation and device queries over <see cref="CuDriver"/>.</summary>
internal static unsafe class CudaDriver
{
    private static readonly Lazy<CudaDriverInfo> s_info = new(ProbeOnce);

    /// <summary>
    /// Loads libcuda, runs cuInit and counts devices, once per process. Never throws: every failure
    /// becomes <see cref="CudaDriverInfo.Reason"/>. Nothing native is touched before the first call.
    /// </summary>
    internal static CudaDriverInfo Probe() => s_info.Value;

    /// <summary>The probe itself, with the failure of each step turned into a reason.</summary>
    internal static CudaDriverInfo ProbeOnce()
    {
        try
        {
            CudaLibraries.Load(CudaLibrary.Driver);
        }
        catch (CudaLibraryNotFoundException e)
        {
            return new(false, 0, 0, null, $"no CUDA driver ({e.Message})");
        }
        var library = CudaLibraries.LoadedName(CudaLibrary.Driver);
        try
        {
            // The version is readable before cuInit, so it is reported even when initialisation fails.
            var versionStatus = CuDriver.cuDriverGetVersion(out var version);
            if (versionStatus != 0) version = 0;
            var init = CuDriver.cuInit(0);
            if (init != 0)
                return new(false, version, 0, library,
                    $"the CUDA driver failed to initialise ({CudaException.Format(nameof(CuDriver.cuInit), init, CudaStatus.Name(CudaLibrary.Driver, init))})");
            CuDriver.Check(CuDriver.cuDeviceGetCount(out var count), nameof(CuDriver.cuDeviceGetCount));
            return new(count > 0, version, count, library, count > 0 ? null : "the CUDA driver reports no devices");
        }
        catch (EntryPointNotFoundException e)
        {
            // A libcuda too old for the CUDA 12 entry points bound here.
            return new(false, 0, 0, library, $"the CUDA driver in {library} is missing an entry point ({e.Message})");
        }
        catch (CudaException e)
        {
            return new(false, 0, 0, library, e.Message);
        }
    }

    /// <summary>Throws <see cref="CudaException"/> with the probe's reason unless the driver is usable.</summary>
    internal static CudaDriverInfo RequireAvailable()
    {
        var info = Probe();
        if (!info.Available) throw new CudaException($"CUDA is unavailable: {info.Reason}");
        return info;
    }

    /// <summary>The CUdevice of <paramref name="ordinal"/>.</summary>
    internal static int Device(int ordinal)
    {
        CuDriver.Check(CuDriver.cuDeviceGet(out var device, ordinal), nameof(CuDriver.cuDeviceGet));
        return device;
    }

    /// <summary>The marketing name, e.g. "NVIDIA H100 80GB HBM3".</summary>
    internal static string DeviceName(int device)
    {
        const int capacity = 256;
        var buffer = stackalloc byte[capacity];
        CuDriver.Check(CuDriver.cuDeviceGetName(buffer, capacity, device), nameof(CuDriver.cuDeviceGetName));
        var length = 0;
        while (length < capacity && buffer[length] != 0) length++;
        return Encoding.UTF8.GetString(buffer, length);
    }

    /// <summary>Total device memory in bytes.</summary>
    internal static ulong TotalMemory(int device)
    {
        CuDriver.Check(CuDriver.cuDeviceTotalMem_v2(out var bytes, device), nameof(CuDriver.cuDeviceTotalMem_v2));
        return bytes;
    }

    /// <summary>One device attribute.</summary>
    internal static int Attribute(int device, CuDeviceAttribute attribute)
    {
        CuDriver.Check(CuDriver.cuDeviceGetAttribute(out var value, attribute, device), nameof(CuDriver.cuDeviceGetAttribute));
        return value;
    }

    /// <summary>(major, minor) compute capability, e.g. (9, 0) for an H100.</summary>
    internal static (int Major, int Minor) ComputeCapability(int device) =>
        (Attribute(device, CuDeviceAttribute.ComputeCapabilityMajor), Attribute(device, CuDeviceAttribute.ComputeCapabilityMinor));
}
