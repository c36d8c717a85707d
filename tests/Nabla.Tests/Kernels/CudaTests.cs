using System.Runtime.InteropServices;
using Nabla.Kernels.Cuda;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>
/// The CUDA layer's behaviour that needs no GPU: what <see cref="Device.Cuda"/> says on this machine,
/// library probing, status naming and message formatting, the caching allocator over a fake, the
/// embedded PTX modules and the cuDNN struct layouts. Checks that need a device are in <see cref="CudaDeviceTests"/>.
/// </summary>
[TestFixture]
public class CudaTests
{
    private static bool NoDriver => Device.CudaInfo.Library is null;

    [Test]
    public void CudaDeviceThrowsOneClearDeviceExceptionAndCpuStillWorks()
    {
        var info = Device.CudaInfo;
        // With a usable driver and device, Device.Cuda(0) is the CUDA device (its sessions are tested in Kernels/Cuda).
        if (info.Available)
        {
            Assert.That(Device.Cuda(0).Name, Is.EqualTo("cuda:0"));
            return;
        }
        // Assert.Throws demands this exact type: an ArgumentException, DllNotFoundException or
        // CudaException escaping would fail here.
        var e = Assert.Throws<DeviceException>(() => Device.Cuda(0))!;
        if (info.Library is null)
        {
            var probed = CudaLibraries.Candidates(CudaLibrary.Driver, 0);
            Assert.That(e.Message, Is.EqualTo(
                $"CUDA device 0 is unavailable: no CUDA driver ({probed[0]} not found; probed: {string.Join(", ", probed)}). " +
                "Use Device.Cpu, or install the NVIDIA driver."));
        }
        else
            Assert.That(e.Message, Does.StartWith("CUDA device 0 is unavailable: ").And.EndWith("Use Device.Cpu."));

        // The failed request leaves the CPU device untouched.
        var g = new Graph();
        var y = g.Constant(Tensor.FromArray([1f, 2f, 3f], 3)) * g.Constant(Tensor.FromArray([4f, 5f, 6f], 3));
        using var s = new Session(g, Device.Cpu);
        Assert.That(s.Run(y).ToArray<float>(), Is.EqualTo(new[] { 4f, 10f, 18f }));
    }

    [Test]
    public void CudaDeviceThrowsTheSameWayEveryTime()
    {
        if (Device.CudaAvailable) Assert.Ignore("a usable GPU is here: Device.Cuda does not throw");
        var first = Assert.Throws<DeviceException>(() => Device.Cuda())!.Message;
        Assert.That(Assert.Throws<DeviceException>(() => Device.Cuda(0))!.Message, Is.EqualTo(first));
    }

    [Test]
    public void CudaDeviceRejectsNegativeOrdinal() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.Cuda(-1));

    [Test]
    public void CudaDeviceBeyondTheDeviceCountIsNamedAsMissing()
    {
        if (NoDriver) Assert.Ignore("no GPU: no CUDA driver here, and without one Device.Cuda(n) reports the missing driver, not the device count");
        var info = Device.CudaInfo;
        var e = Assert.Throws<DeviceException>(() => Device.Cuda(info.DeviceCount))!;
        Assert.That(e.Message, Does.StartWith($"CUDA device {info.DeviceCount} "));
    }

    [Test]
    public void CudaInfoWithoutDriverIsFalseAndZero()
    {
        if (!NoDriver) Assert.Ignore($"a CUDA driver is installed here ({Device.CudaInfo.Library}); this test checks the machine without one");
        var info = Device.CudaInfo;
        Assert.That(Device.CudaAvailable, Is.False);
        Assert.That((info.Available, info.DriverVersion, info.DeviceCount, info.DriverVersionText), Is.EqualTo((false, 0, 0, "none")));
        Assert.That(info.Reason, Does.StartWith("no CUDA driver ("));
        Assert.That(CudaLibraries.IsLoaded(CudaLibrary.Driver), Is.False);
    }

    [Test]
    public void BindingCalledWithoutDriverReportsTheProbedNames()
    {
        if (!NoDriver) Assert.Ignore("a CUDA driver is installed here; this test checks the machine without one");
        // The resolver, not the runtime's default probing, answers for "cuda".
        var e = Assert.Throws<CudaLibraryNotFoundException>(() => CuDriver.cuInit(0))!;
        Assert.That(e.Probed, Is.EqualTo(CudaLibraries.Candidates(CudaLibrary.Driver, 0)));
        Assert.That(e.MissingLibrary, Is.EqualTo(CudaLibrary.Driver));
    }

    [TestCase(12040, "12.4"), TestCase(13000, "13.0"), TestCase(11080, "11.8"), TestCase(0, "none")]
    public void DriverVersionText(int version, string text) =>
        Assert.That(new CudaDriverInfo(true, version, 1, "libcuda.so.1", null).DriverVersionText, Is.EqualTo(text));

    [Test]
    public void CandidatesPutVersionedSonamesFirst()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("not Linux: this test checks the Linux sonames");
        Assert.That(CudaLibraries.Candidates(CudaLibrary.Driver, 0), Is.EqualTo(new[] { "libcuda.so.1", "libcuda.so" }));
        Assert.That(CudaLibraries.Candidates(CudaLibrary.Cublas, 13000), Is.EqualTo(new[] { "libcublas.so.13", "libcublas.so.12", "libcublas.so" }));
        Assert.That(CudaLibraries.Candidates(CudaLibrary.Cublas, 12080), Is.EqualTo(new[] { "libcublas.so.12", "libcublas.so" }));
        Assert.That(CudaLibraries.Candidates(CudaLibrary.Cudnn, 0), Is.EqualTo(new[] { "libcudnn.so.9", "libcudnn.so" }));
        // Only cuBLAS depends on the driver's version.
        Assert.That(CudaLibraries.Candidates(CudaLibrary.Cudnn, 13000), Is.EqualTo(CudaLibraries.Candidates(CudaLibrary.Cudnn, 12000)));
    }

    // cuDriverGetVersion's 1000·major + 10·minor; 0 = unknown (no driver).
    [TestCase(0, 12), TestCase(11080, 12), TestCase(12000, 12), TestCase(12090, 12), TestCase(12990, 12),
     TestCase(13000, 13), TestCase(13010, 13), TestCase(14000, 13)]
    public void CublasMajorFollowsTheDriver(int driverVersion, int major) =>
        Assert.That(CudaLibraries.CublasMajor(driverVersion), Is.EqualTo(major));

    [TestCase(13000, false, new[] { "libcublas.so.13", "libcublas.so.12", "libcublas.so" })]
    [TestCase(13020, false, new[] { "libcublas.so.13", "libcublas.so.12", "libcublas.so" })]
    [TestCase(12080, false, new[] { "libcublas.so.12", "libcublas.so" })]
    [TestCase(12000, false, new[] { "libcublas.so.12", "libcublas.so" })]
    [TestCase(0, false, new[] { "libcublas.so.12", "libcublas.so" })]
    [TestCase(13000, true, new[] { "cublas64_13.dll", "cublas64_12.dll" })]
    [TestCase(12040, true, new[] { "cublas64_12.dll" })]
    public void CublasCandidatesPutCublas13FirstOnlyUnderACuda13Driver(int driverVersion, bool windows, string[] expected) =>
        Assert.That(CudaLibraries.CublasCandidates(driverVersion, windows), Is.EqualTo(expected));

    [Test]
    public void TryGetFirstExportPrefersTheEarlierName()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("not Linux: this test looks up glibc's libm.so.6");
        Assert.That(CudaLibraries.TryLoadFirst(["libm.so.6"], out var libm, out _), Is.True);
        Assert.That(CudaLibraries.TryGetFirstExport(libm, ["nabla_absent_v2", "cos", "sin"], out var address, out var symbol), Is.True);
        Assert.That(symbol, Is.EqualTo("cos"));
        Assert.That(address, Is.EqualTo(System.Runtime.InteropServices.NativeLibrary.GetExport(libm, "cos")));
        Assert.That(CudaLibraries.TryGetFirstExport(libm, ["sin", "cos"], out _, out symbol), Is.True);
        Assert.That(symbol, Is.EqualTo("sin"));
        Assert.That(CudaLibraries.TryGetFirstExport(libm, ["nabla_absent_v2", "nabla_absent"], out address, out symbol), Is.False);
        Assert.That((address, symbol), Is.EqualTo((IntPtr.Zero, (string?)null)));
    }

    [Test]
    public void EventElapsedTimeTriesTheV2ExportFirst() =>
        Assert.That(CuDriver.EventElapsedTimeExports, Is.EqualTo(new[] { "cuEventElapsedTime_v2", "cuEventElapsedTime" }));

    [Test]
    public void EventElapsedTimeWithoutDriverReportsTheProbedNames()
    {
        if (!NoDriver) Assert.Ignore("a CUDA driver is installed here; this test checks the machine without one");
        var e = Assert.Throws<CudaLibraryNotFoundException>(() => CuDriver.EventElapsedTime(out _, 1, 2))!;
        Assert.That(e.MissingLibrary, Is.EqualTo(CudaLibrary.Driver));
        Assert.That(CuDriver.EventElapsedTimeExport, Is.Null);
    }

    [Test]
    public void TryLoadFirstReturnsTheFirstNameThatOpens()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("not Linux: this test loads glibc's libm.so.6");
        Assert.That(CudaLibraries.TryLoadFirst(["libnabla-absent.so.1", "libm.so.6"], out var handle, out var name), Is.True);
        Assert.That((handle != IntPtr.Zero, name), Is.EqualTo((true, "libm.so.6")));
        Assert.That(CudaLibraries.TryLoadFirst(["libnabla-absent.so.1", "libnabla-absent.so"], out handle, out name), Is.False);
        Assert.That((handle, name), Is.EqualTo((IntPtr.Zero, (string?)null)));
    }

    [Test]
    public void NotFoundMessageListsEveryProbedName()
    {
        var e = new CudaLibraryNotFoundException(CudaLibrary.Driver, ["libcuda.so.1", "libcuda.so"]);
        Assert.That(e.Message, Is.EqualTo("libcuda.so.1 not found; probed: libcuda.so.1, libcuda.so"));
    }

    [Test]
    public void NotFoundMessageOfCublasAndCudnnSaysWhereWheelLibrariesMustBe()
    {
        Assert.That(CudaLibraryNotFoundException.Describe(CudaLibrary.Cudnn, ["libcudnn.so.9", "libcudnn.so"], 13000, windows: false),
            Is.EqualTo("libcudnn.so.9 not found; probed: libcudnn.so.9, libcudnn.so. " + CudaLibraryNotFoundException.WheelHint));
        Assert.That(CudaLibraryNotFoundException.WheelHint, Does.Contain("nvidia/cu13/lib").And.Contain("nvidia/cudnn/lib")
            .And.Contain("LD_LIBRARY_PATH before the process starts"));
        Assert.That(CudaLibraryNotFoundException.Describe(CudaLibrary.Cublas, ["libcublas.so.13", "libcublas.so.12", "libcublas.so"], 13000, windows: false),
            Is.EqualTo("libcublas.so.13 not found; probed: libcublas.so.13, libcublas.so.12, libcublas.so. " + CudaLibraryNotFoundException.WheelHint));
        // Under a CUDA 12 driver the message says why cuBLAS 13 is missing from the list.
        Assert.That(CudaLibraryNotFoundException.Describe(CudaLibrary.Cublas, ["libcublas.so.12", "libcublas.so"], 12040, windows: false),
            Is.EqualTo("libcublas.so.12 not found; probed: libcublas.so.12, libcublas.so (cuBLAS 13 not tried: it needs a CUDA 13 driver, " +
                "this one is CUDA 12.4). " + CudaLibraryNotFoundException.WheelHint));
        // No LD_LIBRARY_PATH advice on Windows, nor for the driver, which no wheel provides.
        Assert.That(CudaLibraryNotFoundException.Describe(CudaLibrary.Cudnn, ["cudnn64_9.dll"], 13000, windows: true),
            Is.EqualTo("cudnn64_9.dll not found; probed: cudnn64_9.dll"));
        Assert.That(CudaLibraryNotFoundException.Describe(CudaLibrary.Driver, ["libcuda.so.1"], 0, windows: false),
            Is.EqualTo("libcuda.so.1 not found; probed: libcuda.so.1"));
    }

    [Test]
    public void FailedCallMessageNamesCallCodeAndNumber()
    {
        var driver = Assert.Throws<CudaException>(() => CuDriver.Check(2, nameof(CuDriver.cuMemAlloc_v2)))!;
        Assert.That(driver.Message, Is.EqualTo("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2)"));
        Assert.That((driver.Library, driver.Call, driver.Code, driver.CodeName),
            Is.EqualTo((CudaLibrary.Driver, "cuMemAlloc_v2", 2, "CUDA_ERROR_OUT_OF_MEMORY")));

        var blas = Assert.Throws<CudaException>(() => CuBlas.Check(7, nameof(CuBlas.cublasSgemm_v2)))!;
        Assert.That(blas.Message, Is.EqualTo("cublasSgemm_v2 failed: CUBLAS_STATUS_INVALID_VALUE (7)"));

        var dnn = Assert.Throws<CudaException>(() => CuDnn.Check(3003, nameof(CuDnn.cudnnConvolutionForward)))!;
        Assert.That(dnn.Message, Is.EqualTo("cudnnConvolutionForward failed: CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE (3003)"));

        Assert.DoesNotThrow(() => CuDriver.Check(0, nameof(CuDriver.cuInit)));
        Assert.DoesNotThrow(() => CuBlas.Check(0, nameof(CuBlas.cublasCreate_v2)));
        Assert.DoesNotThrow(() => CuDnn.Check(0, nameof(CuDnn.cudnnCreate)));
    }

    [Test]
    public void UnknownStatusWithoutLibraryIsNamedByItsType()
    {
        if (CudaLibraries.IsLoaded(CudaLibrary.Driver)) Assert.Ignore("a CUDA driver is loaded: it names codes our own table lacks, so the table's fallback name cannot be checked");
        Assert.That(CudaStatus.Error(CudaLibrary.Driver, 4242, "cuInit").Message, Is.EqualTo("cuInit failed: unknown CUresult (4242)"));
        if (!CudaLibraries.IsLoaded(CudaLibrary.Cudnn))
            Assert.That(CudaStatus.Name(CudaLibrary.Cudnn, 3), Is.EqualTo("unknown cudnnStatus_t"));
    }

    // Spot checks against the headers (cuda.h 12.6, cublas_api.h 12.6, cudnn_graph.h 9.6).
    [TestCase(CudaLibrary.Driver, 0, "CUDA_SUCCESS")]
    [TestCase(CudaLibrary.Driver, 34, "CUDA_ERROR_STUB_LIBRARY")]
    [TestCase(CudaLibrary.Driver, 100, "CUDA_ERROR_NO_DEVICE")]
    [TestCase(CudaLibrary.Driver, 209, "CUDA_ERROR_NO_BINARY_FOR_GPU")]
    [TestCase(CudaLibrary.Driver, 218, "CUDA_ERROR_INVALID_PTX")]
    [TestCase(CudaLibrary.Driver, 222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION")]
    [TestCase(CudaLibrary.Driver, 700, "CUDA_ERROR_ILLEGAL_ADDRESS")]
    [TestCase(CudaLibrary.Driver, 999, "CUDA_ERROR_UNKNOWN")]
    [TestCase(CudaLibrary.Cublas, 3, "CUBLAS_STATUS_ALLOC_FAILED")]
    [TestCase(CudaLibrary.Cublas, 15, "CUBLAS_STATUS_NOT_SUPPORTED")]
    [TestCase(CudaLibrary.Cudnn, 1001, "CUDNN_STATUS_NOT_INITIALIZED")]
    [TestCase(CudaLibrary.Cudnn, 2000, "CUDNN_STATUS_BAD_PARAM")]
    [TestCase(CudaLibrary.Cudnn, 4004, "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED")]
    [TestCase(CudaLibrary.Cudnn, 5000, "CUDNN_STATUS_EXECUTION_FAILED")]
    public void StatusNameTable(CudaLibrary library, int code, string name) =>
        Assert.That(CudaStatus.Name(library, code), Is.EqualTo(name));

    [TestCase(CudaLibrary.Driver, "CUDA_", 50)]
    [TestCase(CudaLibrary.Cublas, "CUBLAS_STATUS_", 10)]
    [TestCase(CudaLibrary.Cudnn, "CUDNN_STATUS_", 48)]
    public void StatusTablesAreDistinctAndPrefixed(CudaLibrary library, string prefix, int count)
    {
        Func<int, string?> table = library switch
        {
            CudaLibrary.Driver => CudaStatusNames.Driver,
            CudaLibrary.Cublas => CudaStatusNames.Cublas,
            _ => CudaStatusNames.Cudnn,
        };
        var names = Enumerable.Range(-1, 10_002).Select(table).OfType<string>().ToArray();
        Assert.That(names, Has.Length.EqualTo(count));
        Assert.That(names, Is.Unique);
        Assert.That(names, Has.All.StartWith(prefix));
        // cuDNN 9 renumbered its codes; cuDNN 8's small codes must not be mistaken for them.
        if (library == CudaLibrary.Cudnn) Assert.That(Enumerable.Range(1, 999).Select(table), Has.All.Null);
    }

    [Test]
    public void CudnnPerfStructsMatchTheCLayout()
    {
        // algo, status, time (4 bytes each), 4 bytes padding, size_t memory, determinism, mathType, int[3], 4 bytes padding.
        foreach (var t in new[] { typeof(CudnnConvolutionFwdAlgoPerf), typeof(CudnnConvolutionBwdDataAlgoPerf), typeof(CudnnConvolutionBwdFilterAlgoPerf) })
        {
            Assert.That(Marshal.SizeOf(t), Is.EqualTo(48), t.Name);
            Assert.That(Marshal.OffsetOf(t, "Memory").ToInt32(), Is.EqualTo(16), t.Name);
            Assert.That(Marshal.OffsetOf(t, "Determinism").ToInt32(), Is.EqualTo(24), t.Name);
        }
    }
}
