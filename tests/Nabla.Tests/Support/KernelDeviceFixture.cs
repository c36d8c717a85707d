using Nabla.Kernels.Cuda;
using NUnit.Framework;

namespace Nabla.Tests.Support;

/// <summary>
/// Base of the kernel fixtures written once and run on every <see cref="IKernelTestDevice"/> (the GPU and the PTX
/// emulator): creates the device once per fixture and disposes it afterwards.
/// </summary>
public abstract class KernelDeviceFixture
{
    private IKernelTestDevice? _device;

    /// <summary>The device this fixture runs on; GPU fixtures call Assert.Ignore here when there is none.</summary>
    private protected abstract IKernelTestDevice CreateDevice();

    /// <summary>The device created in <see cref="OpenDevice"/>.</summary>
    private protected IKernelTestDevice Device => _device ?? throw new InvalidOperationException("the device is created in OneTimeSetUp");

    /// <summary>The device's kernel launcher.</summary>
    private protected IKernelLauncher K => Device.Launcher;

    /// <summary>Creates the fixture's device.</summary>
    [OneTimeSetUp]
    public void OpenDevice() => _device = CreateDevice();

    /// <summary>Disposes the fixture's device, if it was created.</summary>
    [OneTimeTearDown]
    public void CloseDevice() => _device?.Dispose();
}
