using Nabla.Kernels.Cuda;
using NUnit.Framework;

namespace Nabla.Tests.Support;

/// <summary>
/// A device that the CUDA kernel families' tests launch on directly: the GPU (<see cref="GpuKernelTestDevice"/>)
/// or the PTX emulator. Tests allocate, write inputs, launch through <see cref="Launcher"/>, and read back.
/// </summary>
internal interface IKernelTestDevice : IDisposable
{
    /// <summary>Where the kernel families send their launches.</summary>
    IKernelLauncher Launcher { get; }

    /// <summary>Allocates <paramref name="bytes"/> bytes (at least 1) of device memory, filled with 0xFF bytes (NaN for floats) so that unwritten elements show.</summary>
    ulong Allocate(long bytes);

    /// <summary>Copies <paramref name="data"/> to <paramref name="address"/> (ordered after earlier launches).</summary>
    void Write<T>(ulong address, ReadOnlySpan<T> data) where T : unmanaged;

    /// <summary>Waits for every queued launch, then reads <paramref name="count"/> elements at <paramref name="address"/>.</summary>
    T[] Read<T>(ulong address, int count) where T : unmanaged;
}

/// <summary>Helpers over <see cref="IKernelTestDevice"/>.</summary>
internal static class KernelTestDeviceExtensions
{
    /// <summary>Allocates room for <paramref name="data"/> and writes it.</summary>
    public static unsafe ulong Upload<T>(this IKernelTestDevice device, ReadOnlySpan<T> data) where T : unmanaged
    {
        var address = device.Allocate(Math.Max(1L, (long)data.Length * sizeof(T)));
        device.Write(address, data);
        return address;
    }

    /// <summary>Allocates <paramref name="count"/> poisoned elements of <typeparamref name="T"/>.</summary>
    public static unsafe ulong Poisoned<T>(this IKernelTestDevice device, int count) where T : unmanaged =>
        device.Allocate(Math.Max(1L, (long)count * sizeof(T)));
}

/// <summary>
/// <see cref="IKernelTestDevice"/> on GPU 0 through the driver. Creating it calls <see cref="Assert.Ignore(string)"/>
/// with the probe's reason where there is no usable GPU, so fixtures that use it belong in <c>[Category("Gpu")]</c>.
/// </summary>
internal sealed unsafe class GpuKernelTestDevice : IKernelTestDevice
{
    private readonly CudaContext _context;
    private readonly CudaLauncher _launcher;
    private readonly List<ulong> _allocations = [];

    public GpuKernelTestDevice()
    {
        var info = CudaDriver.Probe();
        if (!info.Available) Assert.Ignore($"no GPU: {info.Reason}");
        _context = CudaContext.Create(0);
        _launcher = new CudaLauncher(_context.Stream);
    }

    public IKernelLauncher Launcher
    {
        get
        {
            _context.MakeCurrent();
            return _launcher;
        }
    }

    public ulong Allocate(long bytes)
    {
        _context.MakeCurrent();
        CuDriver.Check(CuDriver.cuMemAlloc_v2(out var address, (nuint)Math.Max(1, bytes)), nameof(CuDriver.cuMemAlloc_v2));
        _allocations.Add(address);
        // 0xFF bytes: NaN as float32 and float64, -1 as integers. cuMemsetD8 covers sizes that are not whole words.
        CuDriver.Check(CuDriver.cuMemsetD8Async(address, 0xFF, (nuint)Math.Max(1, bytes), _context.Stream), nameof(CuDriver.cuMemsetD8Async));
        return address;
    }

    public void Write<T>(ulong address, ReadOnlySpan<T> data) where T : unmanaged
    {
        if (data.IsEmpty) return;
        _context.MakeCurrent();
        fixed (T* p = data)
        {
            CuDriver.Check(CuDriver.cuMemcpyHtoDAsync_v2(address, p, (nuint)(data.Length * sizeof(T)), _context.Stream), nameof(CuDriver.cuMemcpyHtoDAsync_v2));
            _context.Synchronize(); // the span is pinned only inside this block
        }
    }

    public T[] Read<T>(ulong address, int count) where T : unmanaged
    {
        _context.MakeCurrent();
        var host = new T[count];
        fixed (T* p = host)
        {
            if (count > 0)
                CuDriver.Check(CuDriver.cuMemcpyDtoHAsync_v2(p, address, (nuint)(count * sizeof(T)), _context.Stream), nameof(CuDriver.cuMemcpyDtoHAsync_v2));
            _context.Synchronize();
        }
        return host;
    }

    public void Dispose()
    {
        _context.MakeCurrent();
        _context.Synchronize();
        _launcher.Dispose();
        foreach (var address in _allocations) CuDriver.Check(CuDriver.cuMemFree_v2(address), nameof(CuDriver.cuMemFree_v2));
        _allocations.Clear();
        _context.Dispose();
    }
}
