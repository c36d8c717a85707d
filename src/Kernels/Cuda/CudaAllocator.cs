using System.Runtime.InteropServices;

namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: written without a GPU (session 2026-12-01 e); tested on the PTX emulator only.

/// <summary>
/// A device whose <see cref="ICudaDevice.CopyHostToDevice"/> has read the host bytes when it returns (it copies them into
/// pinned staging first), so the caller may reuse or move the source at once, stronger than <see cref="ICudaDevice"/> asks.
/// </summary>
internal interface IStagedCudaDevice : ICudaDevice
{
}

/// <summary>
/// The <see cref="IAllocator"/> of <see cref="CudaBackend"/>: buffers and arenas are blocks of a
/// <see cref="CachingDeviceAllocator"/> over the device's memory, views are addresses inside an arena, and every
/// dtype keeps its natural size (bool one byte), so one arena holds them all.
/// </summary>
/// <remarks>
/// <para><b>Stream contract.</b> Upload, WriteFloat64 and Copy only queue work on the device's stream; Download and
/// ReadFloat64 wait for it (they are the only waits besides <see cref="Synchronize"/>). An upload's host bytes must stay
/// unchanged until the copy ran: on an <see cref="IStagedCudaDevice"/> (the driver) the device staged them before
/// returning; on any other device this allocator keeps a pinned copy until the next wait.</para>
/// <para>Not thread-safe: one session runs one request at a time.</para>
/// </remarks>
internal sealed unsafe class CudaAllocator : IAllocator, IDisposable
{
    private readonly ICudaDevice _device;
    private readonly CachingDeviceAllocator _pool;
    private readonly List<byte[]> _heldUploads = [];
    private readonly Func<CudaException, Exception>? _wrapErrors;
    private long _allocations, _frees, _uploads, _uploadBytes, _downloads, _downloadBytes;
    private bool _disposed;

    /// <summary>An allocator over <paramref name="device"/>'s memory and stream; <paramref name="wrapErrors"/> turns a failed call into what users see (null: unchanged).</summary>
    public CudaAllocator(ICudaDevice device, Func<CudaException, Exception>? wrapErrors = null)
    {
        _device = device;
        _wrapErrors = wrapErrors;
        _pool = new CachingDeviceAllocator(device);
    }

    /// <inheritdoc/>
    /// <remarks>256 bytes, cuMemAlloc's own alignment: every view starts where a block would, which coalesced and vector loads, cuBLAS and cuDNN prefer.</remarks>
    public int Alignment => 256;

    /// <inheritdoc/>
    public int ArenaOf(DType dtype) => 0;

    /// <inheritdoc/>
    public int StorageBytes(DType dtype) => dtype.SizeOf();

    /// <summary>The pool's own counters (size classes, cached bytes, reuses).</summary>
    public DeviceAllocatorStats PoolStats => _pool.Stats;

    /// <inheritdoc/>
    public DeviceBuffer Allocate(DType dtype, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var bytes = (ulong)length * (ulong)dtype.SizeOf();
        var buffer = NewBlock(dtype, length, bytes);
        // Size classes are multiples of 512 bytes, so rounding the zeroing up to whole words stays inside the block.
        try { _device.Memset32(buffer.Address, 0, (bytes + 3) / 4); }
        catch (CudaException e) when (_wrapErrors is not null) { throw _wrapErrors(e); }
        return buffer;
    }

    /// <inheritdoc/>
    public DeviceBuffer AllocateArena(int arena, long bytes)
    {
        if (arena != 0) throw new ArgumentOutOfRangeException(nameof(arena), arena, "a CUDA device has one arena (0) for every dtype");
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        return NewBlock(DType.Bool, checked((int)Math.Min(bytes, int.MaxValue)), (ulong)bytes);
    }

    private CudaBuffer NewBlock(DType dtype, int length, ulong bytes)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ulong address;
        try { address = _pool.Allocate(bytes); }
        catch (CudaException e) when (_wrapErrors is not null) { throw _wrapErrors(e); }
        _allocations++;
        return new CudaBuffer(dtype, length, address, bytes, this);
    }

    /// <inheritdoc/>
    public DeviceBuffer View(DeviceBuffer arena, long byteOffset, DType dtype, int length)
    {
        var a = Own(arena, nameof(arena));
        if (byteOffset < 0 || byteOffset % Alignment != 0)
            throw new ArgumentException($"arena offset {byteOffset} is not a non-negative multiple of {Alignment}", nameof(byteOffset));
        var bytes = (ulong)length * (ulong)dtype.SizeOf();
        if ((ulong)byteOffset + bytes > a.Bytes)
            throw new ArgumentOutOfRangeException(nameof(length), $"a view of {dtype.Name()}[{length}] at {byteOffset} passes the end of a {a.Bytes}-byte arena");
        return new CudaBuffer(dtype, length, a.Address + (ulong)byteOffset, bytes, null);
    }

    /// <inheritdoc/>
    public void Free(DeviceBuffer buffer)
    {
        if (buffer is CudaBuffer { Freed: true } freed) throw new InvalidOperationException($"double free of {freed}");
        var b = Own(buffer, nameof(buffer));
        if (!b.IsOwner) throw new InvalidOperationException($"{b} is an arena view; free its arena instead");
        b.Freed = true;
        _frees++;
        _pool.Free(b.Address);
    }

    /// <inheritdoc/>
    public void Upload(Array host, DeviceBuffer dst)
    {
        ArgumentNullException.ThrowIfNull(host);
        var d = Own(dst, nameof(dst));
        if (host.Length != d.Length) throw new ArgumentException($"Upload of {host.Length} elements into {d}", nameof(host));
        _uploads++;
        _uploadBytes += (long)host.Length * d.DType.SizeOf();
        // The contract names the dtype's CLR type; anything else is converted on the host first, as the host allocator does.
        var typed = host.GetType().GetElementType() == d.DType.ClrType() ? host : Converted(host, d.DType);
        UploadBytes(typed, d);
    }

    /// <inheritdoc/>
    public void Download(DeviceBuffer src, Array host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var s = Own(src, nameof(src));
        if (host.Length != s.Length) throw new ArgumentException($"Download of {s} into {host.Length} elements", nameof(host));
        _downloads++;
        _downloadBytes += (long)host.Length * s.DType.SizeOf();
        if (host.GetType().GetElementType() == s.DType.ClrType()) DownloadBytes(s, host);
        else
        {
            var typed = s.DType.NewArray(s.Length);
            DownloadBytes(s, typed);
            HostConvert.Array(typed, 0, host, 0, s.Length);
        }
    }

    /// <inheritdoc/>
    public double[] ReadFloat64(DeviceBuffer src)
    {
        var s = Own(src, nameof(src));
        _downloads++;
        _downloadBytes += s.Length * 8L;
        var typed = s.DType.NewArray(s.Length);
        DownloadBytes(s, typed);
        var result = new double[s.Length];
        HostConvert.Array(typed, 0, result, 0, s.Length);
        return result;
    }

    /// <inheritdoc/>
    public void WriteFloat64(ReadOnlySpan<double> src, DeviceBuffer dst)
    {
        var d = Own(dst, nameof(dst));
        if (src.Length != d.Length) throw new ArgumentException($"WriteFloat64 of {src.Length} values into {d}", nameof(src));
        _uploads++;
        _uploadBytes += src.Length * 8L;
        UploadBytes(Converted(src.ToArray(), d.DType), d);
    }

    /// <inheritdoc/>
    public void Copy(DeviceBuffer src, DeviceBuffer dst)
    {
        CudaBuffer s = Own(src, nameof(src)), d = Own(dst, nameof(dst));
        if (s.Length != d.Length || s.DType != d.DType) throw new ArgumentException($"Copy needs equal buffers, got {s} and {d}");
        if (s.Length == 0 || s.Address == d.Address) return;
        try { _device.CopyDeviceToDevice(d.Address, s.Address, (ulong)s.Length * (ulong)s.DType.SizeOf()); }
        catch (CudaException e) when (_wrapErrors is not null) { throw _wrapErrors(e); }
    }

    /// <inheritdoc/>
    /// <remarks>Allocations and frees count this allocator's calls (a reuse from the cache counts too); bytes are the pool's size classes.</remarks>
    public AllocatorStats Stats
    {
        get
        {
            var pool = _pool.Stats;
            return new(_allocations, _frees, (long)pool.BytesInUse, (long)pool.PeakBytesInUse, _uploads, _uploadBytes, _downloads, _downloadBytes);
        }
    }

    /// <summary>Waits for the stream, then drops the host copies that pending uploads read.</summary>
    public void Synchronize()
    {
        try { _device.Synchronize(); }
        catch (CudaException e) when (_wrapErrors is not null) { throw _wrapErrors(e); }
        finally { _heldUploads.Clear(); }
    }

    /// <summary>Frees every block this allocator still holds (the caching allocator's Dispose): a disposed session's memory goes back to the device.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _heldUploads.Clear();
        _pool.Dispose();
    }

    private CudaBuffer Own(DeviceBuffer buffer, string name)
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (buffer is not CudaBuffer c) throw new ArgumentException($"{buffer.GetType().Name} is not a CUDA buffer", name);
        if (c.Freed) throw new ObjectDisposedException(name, $"{c} was freed");
        return c;
    }

    private static Array Converted(Array host, DType dtype)
    {
        var typed = dtype.NewArray(host.Length);
        HostConvert.Array(host, 0, typed, 0, host.Length);
        return typed;
    }

    private void UploadBytes(Array typed, CudaBuffer d)
    {
        var bytes = (ulong)typed.Length * (ulong)d.DType.SizeOf();
        if (bytes == 0) return;
        try
        {
            if (_device is IStagedCudaDevice or GraphRecorder { Inner: IStagedCudaDevice })
            {
                fixed (byte* p = &MemoryMarshal.GetArrayDataReference(typed)) _device.CopyHostToDevice(d.Address, p, bytes);
                return;
            }
            // The device reads the host bytes later, in stream order: keep them in a pinned array until the next wait.
            var held = GC.AllocateUninitializedArray<byte>(checked((int)bytes), pinned: true);
            MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(typed), (int)bytes).CopyTo(held);
            _heldUploads.Add(held);
            fixed (byte* p = held) _device.CopyHostToDevice(d.Address, p, bytes);
        }
        catch (CudaException e) when (_wrapErrors is not null) { throw _wrapErrors(e); }
    }

    private void DownloadBytes(CudaBuffer s, Array typed)
    {
        var bytes = (ulong)typed.Length * (ulong)s.DType.SizeOf();
        // The array is pinned across the queued copy and the wait that completes it.
        fixed (byte* p = &MemoryMarshal.GetArrayDataReference(typed))
        {
            try { if (bytes > 0) _device.CopyDeviceToHost(p, s.Address, bytes); }
            catch (CudaException e) when (_wrapErrors is not null) { throw _wrapErrors(e); }
            Synchronize();
        }
    }
}
