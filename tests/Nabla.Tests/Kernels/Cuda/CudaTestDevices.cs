using Nabla.Kernels;
using Nabla.Kernels.Cuda;
using NUnit.Framework;

namespace Nabla.Tests.Kernels.Cuda;

/// <summary>The GPU for the <c>[Category("Gpu")]</c> CUDA fixtures: ignored, with the probe's reason, where there is none.</summary>
internal static class CudaTestDevices
{
    /// <summary>Ignores the calling test (or fixture, from a OneTimeSetUp) where there is no usable GPU.</summary>
    public static void RequireGpu()
    {
        var info = CudaDriver.Probe();
        if (!info.Available) Assert.Ignore($"no GPU: {info.Reason}");
    }

    /// <summary><see cref="Device.Cuda"/>(0).</summary>
    public static Device Gpu()
    {
        RequireGpu();
        return Device.Cuda(0);
    }

    /// <summary>A <see cref="CudaBackend"/> on GPU 0 of its own, errors unwrapped (as <see cref="CudaException"/>).</summary>
    public static CudaBackend GpuBackend()
    {
        RequireGpu();
        return new CudaBackend(new DriverCudaDevice(0));
    }
}

/// <summary>The backend contract on GPU 0.</summary>
[Category("Gpu"), NonParallelizable]
public class GpuCudaBackendContractTests : BackendContractTests
{
    // Ignored before the base SetUp runs, whose TearDown would otherwise find no backend to dispose.
    [OneTimeSetUp]
    public void RequireGpu() => CudaTestDevices.RequireGpu();

    protected override IBackend Create() => CudaTestDevices.GpuBackend();

    // float32 storage, kernels exactly rounded or within a few ulp (the contract's transcendental checks allow 4·Rtol).
    protected override double Rtol => 2e-7;
}

/// <summary>The op tables on GPU 0.</summary>
[Category("Gpu"), NonParallelizable]
public class GpuCudaOpTableTests : CudaOpTableTests
{
    protected override Device Device => CudaTestDevices.Gpu();
}

/// <summary>The CUDA backend's own tests on GPU 0.</summary>
[Category("Gpu"), NonParallelizable]
public class GpuCudaBackendTests : CudaBackendTests
{
    [OneTimeSetUp]
    public void RequireGpu() => CudaTestDevices.RequireGpu();

    private protected override CudaBackend Create() => CudaTestDevices.GpuBackend();
}
