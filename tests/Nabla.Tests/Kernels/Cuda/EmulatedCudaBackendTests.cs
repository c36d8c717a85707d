using Nabla.Kernels;
using Nabla.Kernels.Cuda;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Kernels.Cuda;

/// <summary>
/// The CUDA backend on the PTX emulator (<see cref="EmulatedCudaDevice"/>): the backend's own logic (allocator, views,
/// argument mapping, the GEMM mapping, composed batch norm, host-staged AllReduce) and the PTX kernels it launches, run
/// on the CPU. What the emulator cannot show: the driver, cuBLAS, cuDNN and pinned staging (the GPU fixtures' part).
/// </summary>
internal static class EmulatedCuda
{
    /// <summary>A device whose sessions run <see cref="CudaBackend"/> over a fresh emulator each.</summary>
    public static Device Device { get; } = CudaDevices.Over("cuda-emulator", () => new EmulatedCudaDevice());

    /// <summary>A backend of its own on a fresh emulator, errors unwrapped.</summary>
    public static CudaBackend Backend() => new(new EmulatedCudaDevice());
}

/// <summary>The backend contract on the emulator.</summary>
public class EmulatedCudaBackendContractTests : BackendContractTests
{
    protected override IBackend Create() => EmulatedCuda.Backend();

    // The PTX kernels are float32 and exactly rounded or within a few ulp, as on the GPU.
    protected override double Rtol => 2e-7;
}

/// <summary>The op tables on the emulator.</summary>
public class EmulatedCudaOpTableTests : CudaOpTableTests
{
    protected override Device Device => EmulatedCuda.Device;
}

/// <summary>Sessions on the emulator, plus what only it can show without a GPU: errors wrapped as DeviceException, the session still usable.</summary>
public class EmulatedCudaSessionTests : CudaSessionTests
{
    protected override Device Device => EmulatedCuda.Device;

    // Every launch is interpreted thread by thread: fewer steps keep the run short and still separate a working backend from a broken one.
    protected override int Steps => 60;
}

/// <summary>The CUDA backend's own tests on the emulator.</summary>
public class EmulatedCudaBackendTests : CudaBackendTests
{
    private protected override CudaBackend Create() => EmulatedCuda.Backend();
}
