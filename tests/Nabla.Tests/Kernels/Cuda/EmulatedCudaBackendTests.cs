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

/// <summary>A kernel fault reaches users as the engine's DeviceException, at the wait that finds it.</summary>
public class EmulatedCudaFaultTests
{
    [Test]
    public void AKernelFaultSurfacesAsADeviceExceptionAtTheNextWait()
    {
        var g = new Graph();
        var a = g.Placeholder(DType.Float32, new Shape(2), "a");
        var session = new Session(g, EmulatedCuda.Device);
        if (session.Backend is not CudaBackend backend) { session.Dispose(); Assert.Ignore("NABLA_DEFER_EXECUTION wraps the backend"); return; }
        // A store through a null pointer: the emulator records the fault as CUDA_ERROR_ILLEGAL_ADDRESS for the next synchronisation.
        const string ptx = ".version 8.0\n.target sm_75\n.address_size 64\n.visible .entry nabla_test_fault(.param .u64 p)\n{\n\t.reg .b64 %rd<2>;\n\t.reg .b32 %r<2>;\n" +
            "\tld.param.u64 %rd1, [p];\n\tmov.u32 %r1, 7;\n\tst.global.u32 [%rd1], %r1;\n\tret;\n}\n";
        var launcher = backend.Device.Launcher;
        var fault = launcher.Function("nabla-test-fault", () => ptx, "nabla_test_fault");
        launcher.Launch(fault, (1, 1, 1), 1, 0, new KernelArgs().U64(0));
        var e = Assert.Throws<DeviceException>(() => session.Run(g.Neg(a), new Dictionary<Output, Tensor> { [a] = Tensor.FromArray([1f, 2f], 2) }));
        Assert.That(e!.Message, Does.StartWith("cuda-emulator: ").And.Contain("CUDA_ERROR_ILLEGAL_ADDRESS"));
        Assert.That(e.InnerException, Is.InstanceOf<CudaException>());
        // The fault is sticky, as on a GPU (the context is unusable): closing the session reports it too.
        Assert.Throws<DeviceException>(session.Dispose);
    }
}

/// <summary>The families that run on cuDNN refuse, naming themselves and the device, where there is none.</summary>
public class EmulatedCudaCudnnRefusalTests
{
    [Test]
    public void ConvolutionAndPoolingNameCudnnAndTheDevice()
    {
        using var be = EmulatedCuda.Backend();
        var args = new Conv2DArgs(1, 4, 4, 1, 3, 3, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 2);
        var conv = Assert.Throws<NotSupportedException>(() => be.ConvolutionWorkspace(ConvolutionPass.Forward, args, DType.Float32));
        Assert.That(conv!.Message, Does.Contain("Conv2D").And.Contain("cuDNN").And.Contain("emulator"));
        var x = be.Memory.Allocate(DType.Float32, 16);
        var pool = new Pool2DArgs(1, 4, 4, 1, 2, 2, 2, 2, 2, 2, 0, 0);
        var e = Assert.Throws<NotSupportedException>(() => be.Pool2D(PoolKind.Max, x, be.Memory.Allocate(DType.Float32, 4), pool));
        Assert.That(e!.Message, Does.Contain("Pool2D").And.Contain("cuDNN"));
        Assert.Throws<NotSupportedException>(() => be.Pool2DGrad(PoolKind.Average, null, be.Memory.Allocate(DType.Float32, 4), x, pool));
    }
}
