namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: written without a GPU (session 2026-12-01 e) from cuda.h, cublas_api.h and cudnn_*.h as bound
// in CuDriver/CuBlas/CuDnn; bench/gpu/verify.sh runs its tests on the first GPU machine.

/// <summary>A device with cuDNN: the handle, bound to the device's stream, created on first use.</summary>
internal interface ICudnnDevice
{
    /// <summary>The cudnnHandle_t on the device's stream (the context is made current on the calling thread).</summary>
    /// <exception cref="CudaLibraryNotFoundException">cuDNN is not installed (or not on LD_LIBRARY_PATH).</exception>
    nint Cudnn { get; }
}

/// <summary>
/// <see cref="ICudaDevice"/> on a GPU through the driver: the primary context of one device with one non-blocking stream
/// (<see cref="CudaContext"/>), raw cuMemAlloc memory, a <see cref="CudaLauncher"/> on the stream, and cuBLAS and cuDNN
/// handles on the stream, created on first use (a session that never multiplies never loads cuBLAS).
/// </summary>
/// <remarks>
/// <para><b>Pinned staging.</b> Transfers go through page-locked host memory (cuMemHostAlloc), the only memory the copy
/// engine reads asynchronously. <see cref="CopyHostToDevice"/> copies the caller's bytes into a staging region and
/// queues the asynchronous copy from there, so the caller may reuse its memory at once (stronger than
/// <see cref="ICudaDevice"/> asks; <see cref="IStagedCudaDevice"/> says so). <see cref="CopyDeviceToHost"/> queues the copy
/// into a staging region and records where the bytes must go; <see cref="Synchronize"/> waits for the stream, then copies
/// every recorded region to its destination, so a download is complete when Synchronize returns. Regions are bump-allocated
/// from pinned chunks and recycled at every Synchronize; when the pending regions would pass
/// <see cref="MaxPendingStaging"/> bytes the device synchronises first (the destinations then fill early, which the
/// contract allows).</para>
/// <para>Every call makes the context current on the calling thread first (a thread-local write), so a session may move
/// between threads. Not thread-safe: one session runs one request at a time.</para>
/// </remarks>
internal sealed unsafe partial class DriverCudaDevice : IStagedCudaDevice, ICudnnDevice
{
    /// <summary>Pinned bytes the pending transfers may hold before a copy waits for the stream.</summary>
    internal const ulong MaxPendingStaging = 1UL << 30;

    private const ulong MinChunk = 4UL << 20;

    private readonly CudaContext _context;
    private readonly CudaLauncher _launcher;
    private readonly List<(nint Pointer, ulong Bytes)> _chunks = [];
    private readonly List<(nint Staged, nint Destination, ulong Bytes)> _pendingDownloads = [];
    private int _chunk;
    private ulong _used, _pendingBytes;
    private nint _cublas, _cudnn;
    private CublasMath _cublasMath = CublasMath.Default;
    private bool _disposed;

    /// <summary>Opens device <paramref name="ordinal"/>: retains its primary context and creates the stream.</summary>
    /// <exception cref="CudaException">No usable driver, or a driver call failed.</exception>
    public DriverCudaDevice(int ordinal)
    {
        _context = CudaContext.Create(ordinal);
        try
        {
            Name = $"cuda:{ordinal} ({CudaDriver.DeviceName(_context.Device)})";
        }
        catch (CudaException)
        {
            // Release the context and stream; the query's failure is the one worth reporting.
            _context.Dispose();
            throw;
        }
        _launcher = new CudaLauncher(_context.Stream);
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>The context and stream.</summary>
    internal CudaContext Context => _context;

    /// <inheritdoc/>
    public IKernelLauncher Launcher
    {
        get
        {
            Current();
            return _launcher;
        }
    }

    private void Current()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _context.MakeCurrent();
    }

    /// <inheritdoc/>
    public ulong Allocate(ulong bytes)
    {
        Current();
        CuDriver.Check(CuDriver.cuMemAlloc_v2(out var address, (nuint)bytes), nameof(CuDriver.cuMemAlloc_v2));
        return address;
    }

    /// <inheritdoc/>
    public void Free(ulong address)
    {
        Current();
        CuDriver.Check(CuDriver.cuMemFree_v2(address), nameof(CuDriver.cuMemFree_v2));
    }

    /// <inheritdoc/>
    /// <remarks>The bytes are copied into pinned staging before this returns; the caller may reuse <paramref name="src"/> at once.</remarks>
    public void CopyHostToDevice(ulong dst, void* src, ulong bytes)
    {
        if (bytes == 0) return;
        Current();
        var staged = Stage(bytes);
        Buffer.MemoryCopy(src, (void*)staged, bytes, bytes);
        CuDriver.Check(CuDriver.cuMemcpyHtoDAsync_v2(dst, (void*)staged, (nuint)bytes, _context.Stream), nameof(CuDriver.cuMemcpyHtoDAsync_v2));
    }

    /// <inheritdoc/>
    /// <remarks>The bytes reach <paramref name="dst"/> inside the next <see cref="Synchronize"/>, which must find it valid.</remarks>
    public void CopyDeviceToHost(void* dst, ulong src, ulong bytes)
    {
        if (bytes == 0) return;
        Current();
        var staged = Stage(bytes);
        CuDriver.Check(CuDriver.cuMemcpyDtoHAsync_v2((void*)staged, src, (nuint)bytes, _context.Stream), nameof(CuDriver.cuMemcpyDtoHAsync_v2));
        _pendingDownloads.Add((staged, (nint)dst, bytes));
    }

    /// <inheritdoc/>
    public void CopyDeviceToDevice(ulong dst, ulong src, ulong bytes)
    {
        if (bytes == 0) return;
        Current();
        CuDriver.Check(CuDriver.cuMemcpyDtoDAsync_v2(dst, src, (nuint)bytes, _context.Stream), nameof(CuDriver.cuMemcpyDtoDAsync_v2));
    }

    /// <inheritdoc/>
    public void Memset32(ulong dst, uint value, ulong count)
    {
        if (count == 0) return;
        Current();
        CuDriver.Check(CuDriver.cuMemsetD32Async(dst, value, (nuint)count, _context.Stream), nameof(CuDriver.cuMemsetD32Async));
    }

    /// <inheritdoc/>
    /// <remarks>Then completes the pending downloads (staging → destination) and recycles the staging; on a fault the pending downloads are dropped with it.</remarks>
    public void Synchronize()
    {
        Current();
        try
        {
            _context.Synchronize();
            foreach (var (staged, destination, bytes) in _pendingDownloads) Buffer.MemoryCopy((void*)staged, (void*)destination, bytes, bytes);
        }
        finally
        {
            _pendingDownloads.Clear();
            RecycleStaging();
        }
    }

    /// <inheritdoc/>
    public void GemmStridedBatched(DType dtype, bool transA, bool transB, int m, int n, int k, double alpha,
        ulong a, int lda, long strideA, ulong b, int ldb, long strideB, double beta, ulong c, int ldc, long strideC, int batch, bool allowTf32)
    {
        Current();
        var handle = Cublas();
        var opA = transA ? CublasOperation.T : CublasOperation.N;
        var opB = transB ? CublasOperation.T : CublasOperation.N;
        switch (dtype)
        {
            case DType.Float32:
                // CUBLAS_DEFAULT_MATH keeps float32 GEMMs in float32 (no TF32) since cuBLAS 11; TF32 only when asked.
                var mode = allowTf32 ? CublasMath.Tf32TensorOp : CublasMath.Default;
                if (mode != _cublasMath)
                {
                    CuBlas.Check(CuBlas.cublasSetMathMode(handle, mode), nameof(CuBlas.cublasSetMathMode));
                    _cublasMath = mode;
                }
                float alpha32 = (float)alpha, beta32 = (float)beta;
                CuBlas.Check(CuBlas.cublasSgemmStridedBatched(handle, opA, opB, m, n, k, alpha32, a, lda, strideA, b, ldb, strideB,
                    beta32, c, ldc, strideC, batch), nameof(CuBlas.cublasSgemmStridedBatched));
                break;
            case DType.Float64:
                CuBlas.Check(CuBlas.cublasDgemmStridedBatched(handle, opA, opB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB,
                    beta, c, ldc, strideC, batch), nameof(CuBlas.cublasDgemmStridedBatched));
                break;
            default:
                throw new NotSupportedException($"cuBLAS GEMM on {Name} is used for float32 and float64, not {dtype.Name()}");
        }
    }

    private nint Cublas()
    {
        if (_cublas != 0) return _cublas;
        CuBlas.Check(CuBlas.cublasCreate_v2(out var handle), nameof(CuBlas.cublasCreate_v2));
        try
        {
            CuBlas.Check(CuBlas.cublasSetStream_v2(handle, _context.Stream), nameof(CuBlas.cublasSetStream_v2));
            CuBlas.Check(CuBlas.cublasSetMathMode(handle, CublasMath.Default), nameof(CuBlas.cublasSetMathMode));
        }
        catch (CudaException)
        {
            // The configuration failure is the error worth reporting; the destroy status would only hide it.
            _ = CuBlas.cublasDestroy_v2(handle);
            throw;
        }
        _cublasMath = CublasMath.Default;
        return _cublas = handle;
    }

    /// <inheritdoc/>
    public nint Cudnn
    {
        get
        {
            Current();
            if (_cudnn != 0) return _cudnn;
            CuDnn.Check(CuDnn.cudnnCreate(out var handle), nameof(CuDnn.cudnnCreate));
            try
            {
                CuDnn.Check(CuDnn.cudnnSetStream(handle, _context.Stream), nameof(CuDnn.cudnnSetStream));
            }
            catch (CudaException)
            {
                _ = CuDnn.cudnnDestroy(handle);
                throw;
            }
            return _cudnn = handle;
        }
    }

    /// <summary>A staging region of <paramref name="bytes"/> bytes (16-byte aligned) that no pending transfer uses.</summary>
    private nint Stage(ulong bytes)
    {
        if (_pendingBytes + bytes > MaxPendingStaging && _pendingBytes > 0) Synchronize();
        var size = (bytes + 15) & ~15UL;
        while (_chunk < _chunks.Count && _used + size > _chunks[_chunk].Bytes)
        {
            _chunk++;
            _used = 0;
        }
        if (_chunk == _chunks.Count)
        {
            var last = _chunks.Count == 0 ? 0 : _chunks[^1].Bytes;
            var chunkBytes = Math.Max(size, Math.Max(MinChunk, 2 * last));
            CuDriver.Check(CuDriver.cuMemHostAlloc(out var pointer, (nuint)chunkBytes, CuDriver.MemHostAllocPortable), nameof(CuDriver.cuMemHostAlloc));
            _chunks.Add((pointer, chunkBytes));
            _used = 0;
        }
        var region = _chunks[_chunk].Pointer + (nint)_used;
        _used += size;
        _pendingBytes += size;
        return region;
    }

    /// <summary>After a wait no transfer uses the staging: start again at the first chunk, keeping only the largest.</summary>
    private void RecycleStaging()
    {
        _chunk = 0;
        _used = 0;
        _pendingBytes = 0;
        if (_chunks.Count <= 1) return;
        // Growth doubles the chunk size, so the last chunk is the largest; the others go back to the driver.
        var keep = _chunks[^1];
        for (var i = 0; i < _chunks.Count - 1; i++) CuDriver.Check(CuDriver.cuMemFreeHost(_chunks[i].Pointer), nameof(CuDriver.cuMemFreeHost));
        _chunks.Clear();
        _chunks.Add(keep);
    }

    /// <summary>Waits for the stream, then destroys the cuDNN and cuBLAS handles, unloads the modules, frees the staging and releases the context; the first failure is thrown after all were tried.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        List<Exception> errors = [];
        void Try(Action step)
        {
            try { step(); }
            catch (CudaException e) { errors.Add(e); }
        }
        Try(Synchronize);
        _disposed = true;
        Try(() => _context.MakeCurrent());
        if (_cudnn != 0) Try(() => CuDnn.Check(CuDnn.cudnnDestroy(_cudnn), nameof(CuDnn.cudnnDestroy)));
        if (_cublas != 0) Try(() => CuBlas.Check(CuBlas.cublasDestroy_v2(_cublas), nameof(CuBlas.cublasDestroy_v2)));
        Try(DisposeGraphWorkspace);
        Try(_launcher.Dispose);
        foreach (var (pointer, _) in _chunks) Try(() => CuDriver.Check(CuDriver.cuMemFreeHost(pointer), nameof(CuDriver.cuMemFreeHost)));
        _chunks.Clear();
        Try(_context.Dispose);
        if (errors.Count > 0) throw errors.Count == 1 ? errors[0] : new AggregateException($"closing {Name} failed", errors);
    }
}
