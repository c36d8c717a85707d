using System.Runtime.InteropServices;
using Nabla.Kernels;
using Nabla.Kernels.Cuda;

namespace Nabla.Tests.Support;

/// <summary>
/// <see cref="IKernelTestDevice"/> on the PTX emulator: kernel-family tests run on the CPU. Launches run
/// synchronously and kernel faults throw <see cref="PtxEmulatorException"/> from the launch itself.
/// </summary>
internal sealed class EmulatedKernelTestDevice : IKernelTestDevice
{
    /// <summary>The emulator (its memory and counters, for tests that inspect them).</summary>
    public PtxEmulator Emulator { get; } = new();

    /// <inheritdoc/>
    public IKernelLauncher Launcher => Emulator;

    /// <inheritdoc/>
    public ulong Allocate(long bytes) => Emulator.Memory.Allocate((ulong)Math.Max(1, bytes), 0xFF);

    /// <inheritdoc/>
    public void Write<T>(ulong address, ReadOnlySpan<T> data) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(data);
        bytes.CopyTo(Emulator.Memory.Span(address, bytes.Length, "Write"));
    }

    /// <inheritdoc/>
    public unsafe T[] Read<T>(ulong address, int count) where T : unmanaged
    {
        var host = new T[count];
        Emulator.Memory.Span(address, (long)count * sizeof(T), "Read").CopyTo(MemoryMarshal.AsBytes(host.AsSpan()));
        return host;
    }

    /// <inheritdoc/>
    public void Dispose() { }
}

/// <summary>
/// <see cref="ICudaDevice"/> on the PTX emulator, named "emulator", so the whole CUDA backend runs in
/// tests on machines without a GPU: memory from <see cref="PtxMemory"/> (fresh allocations hold 0xFF
/// bytes, so unwritten data reads as NaN or -1), kernels through <see cref="PtxEmulator"/>, and
/// <see cref="GemmStridedBatched"/> computed in C# with cuBLAS's column-major semantics.
/// </summary>
/// <remarks>
/// Errors are <see cref="CudaException"/>s as on the driver: a launch the driver would refuse (argument
/// count or sizes, block or grid shape, shared memory) fails at <c>Launch</c>; a fault inside a kernel
/// (out of bounds, misaligned, deadlock, ...) is reported, as CUDA_ERROR_ILLEGAL_ADDRESS is, by the next
/// <see cref="Synchronize"/> or device-to-host copy, and is sticky: later launches are skipped and every
/// later call throws, as a real context is unusable after such a fault. The message carries the
/// emulator's diagnosis and the <see cref="PtxEmulatorException"/> is the inner exception.
/// </remarks>
internal sealed unsafe partial class EmulatedCudaDevice : ICudaDevice
{
    private readonly FaultingLauncher _launcher;
    private Exception? _fault;
    private bool _disposed;

    public EmulatedCudaDevice()
    {
        _launcher = new FaultingLauncher(this);
    }

    /// <summary>The emulator behind <see cref="Launcher"/>.</summary>
    public PtxEmulator Emulator { get; } = new();

    /// <summary>Emulated device memory (for tests that count live allocations).</summary>
    public PtxMemory Memory => Emulator.Memory;

    /// <summary>GEMM calls so far.</summary>
    public int GemmCalls { get; private set; }

    public string Name => "emulator";

    public IKernelLauncher Launcher => _launcher;

    /// <summary>
    /// Device memory the emulator pretends to have: an allocation that would take the live total past it
    /// fails with CUDA_ERROR_OUT_OF_MEMORY (code 2), as cuMemAlloc does, so out-of-memory handling (the
    /// caching allocator's release-and-retry, the backend's error) can be tested. 2 GiB by default.
    /// </summary>
    public long MemoryLimit { get; set; } = 2L << 30;

    public ulong Allocate(ulong bytes)
    {
        Check();
        RefuseWhileCapturing("cuMemAlloc_v2");
        // Status codes as cuMemAlloc_v2 returns them, so callers that test CudaException.Code behave as on a GPU.
        if (bytes == 0) throw new CudaException(CudaLibrary.Driver, "cuMemAlloc_v2", 1, "CUDA_ERROR_INVALID_VALUE");
        if (bytes > (ulong)MemoryLimit || Memory.BytesInUse + (long)bytes > MemoryLimit)
            throw new CudaException(CudaLibrary.Driver, "cuMemAlloc_v2", 2, "CUDA_ERROR_OUT_OF_MEMORY");
        return Memory.Allocate(bytes, 0xFF);
    }

    public void Free(ulong address)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        RefuseWhileCapturing("cuMemFree_v2");
        try { Memory.Free(address); }
        catch (PtxEmulatorException e) { throw new CudaException($"cuMemFree_v2 failed: CUDA_ERROR_INVALID_VALUE (1): {e.Message}", e); }
    }

    public void CopyHostToDevice(ulong dst, void* src, ulong bytes)
    {
        Check();
        RefuseWhileCapturing("cuMemcpyHtoDAsync_v2");
        new ReadOnlySpan<byte>(src, checked((int)bytes)).CopyTo(Region(dst, bytes, "cuMemcpyHtoDAsync_v2"));
    }

    public void CopyDeviceToHost(void* dst, ulong src, ulong bytes)
    {
        Check();
        RefuseWhileCapturing("cuMemcpyDtoHAsync_v2");
        Region(src, bytes, "cuMemcpyDtoHAsync_v2").CopyTo(new Span<byte>(dst, checked((int)bytes)));
    }

    public void CopyDeviceToDevice(ulong dst, ulong src, ulong bytes)
    {
        Check();
        if (Captures(() => CopyDeviceToDevice(dst, src, bytes))) return;
        var from = Region(src, bytes, "cuMemcpyDtoDAsync_v2").ToArray();
        from.CopyTo(Region(dst, bytes, "cuMemcpyDtoDAsync_v2"));
    }

    public void Memset32(ulong dst, uint value, ulong count)
    {
        Check();
        if (Captures(() => Memset32(dst, value, count))) return;
        if (dst % 4 != 0) throw new CudaException($"cuMemsetD32Async failed: CUDA_ERROR_INVALID_VALUE (1): 0x{dst:X} is not 4-byte aligned");
        MemoryMarshal.Cast<byte, uint>(Region(dst, count * 4, "cuMemsetD32Async")).Fill(value);
    }

    public void Synchronize()
    {
        Check();
        RefuseWhileCapturing("cuStreamSynchronize");
    }

    private Span<byte> Region(ulong address, ulong bytes, string call)
    {
        try { return Memory.Span(address, checked((long)bytes), call); }
        catch (PtxEmulatorException e) { throw new CudaException($"{call} failed: CUDA_ERROR_INVALID_VALUE (1): {e.Message}", e); }
    }

    private void Check()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_fault is not null)
            throw new CudaException($"CUDA_ERROR_ILLEGAL_ADDRESS (700) (emulated; sticky): {_fault.Message}", _fault);
    }

    public void GemmStridedBatched(DType dtype, bool transA, bool transB, int m, int n, int k, double alpha,
        ulong a, int lda, long strideA, ulong b, int ldb, long strideB, double beta, ulong c, int ldc, long strideC, int batch, bool allowTf32)
    {
        Check();
        if (Captures(() => GemmStridedBatched(dtype, transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch, allowTf32))) return;
        GemmCalls++;
        EmulatedGemm.Run(Memory, dtype, transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch, allowTf32);
    }

    public void Dispose() => _disposed = true;

    /// <summary>The device's launcher: refuses bad launches at once and records kernel faults for the next synchronisation.</summary>
    private sealed class FaultingLauncher(EmulatedCudaDevice device) : IKernelLauncher
    {
        public KernelHandle Function(string module, string entry)
        {
            device.Check();
            return Wrap(() => device.Emulator.Function(module, entry), "cuModuleGetFunction");
        }

        public KernelHandle Function(string key, Func<string> ptx, string entry)
        {
            device.Check();
            return Wrap(() => device.Emulator.Function(key, ptx, entry), "cuModuleGetFunction");
        }

        private static KernelHandle Wrap(Func<KernelHandle> f, string call)
        {
            try { return f(); }
            catch (PtxEmulatorException e) { throw new CudaException($"{call} failed: CUDA_ERROR_NOT_FOUND (500): {e.Message}", e); }
        }

        public void Launch(KernelHandle function, (uint X, uint Y, uint Z) grid, uint block, uint sharedBytes, KernelArgs args)
        {
            device.Check();
            if (device.Captures(() => Launch(function, grid, block, sharedBytes, args))) return;
            var before = device.Emulator.Launches;
            try
            {
                device.Emulator.Launch(function, grid, block, sharedBytes, args);
            }
            catch (PtxEmulatorException e) when (device.Emulator.Launches == before)
            {
                // Refused before running: the driver's cuLaunchKernel would have returned an error.
                throw new CudaException($"cuLaunchKernel failed: CUDA_ERROR_INVALID_VALUE (1): {e.Message}", e);
            }
            catch (PtxEmulatorException e)
            {
                device._fault = e;
            }
        }
    }
}
