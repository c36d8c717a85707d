namespace Nabla.Kernels.Cuda;

/// <summary>The raw allocator under <see cref="CachingDeviceAllocator"/>: cuMemAlloc/cuMemFree, or a fake in tests.</summary>
internal interface IDeviceMemory
{
    /// <summary>Allocates <paramref name="bytes"/> bytes and returns the device address.</summary>
    /// <exception cref="CudaException">Out of memory (CUDA_ERROR_OUT_OF_MEMORY) or another driver error.</exception>
    ulong Allocate(ulong bytes);

    /// <summary>Frees an address returned by <see cref="Allocate"/>.</summary>
    void Free(ulong address);
}

/// <summary><see cref="IDeviceMemory"/> over the driver; the owning context must be current.</summary>
internal sealed class DriverDeviceMemory : IDeviceMemory
{
    /// <inheritdoc/>
    public ulong Allocate(ulong bytes)
    {
        CuDriver.Check(CuDriver.cuMemAlloc_v2(out var address, (nuint)bytes), nameof(CuDriver.cuMemAlloc_v2));
        return address;
    }

    /// <inheritdoc/>
    public void Free(ulong address) => CuDriver.Check(CuDriver.cuMemFree_v2(address), nameof(CuDriver.cuMemFree_v2));
}

/// <summary>Counters of a <see cref="CachingDeviceAllocator"/>, in bytes of size classes (not of requests).</summary>
/// <param name="BytesInUse">Held by live allocations.</param>
/// <param name="PeakBytesInUse">Largest <paramref name="BytesInUse"/> seen.</param>
/// <param name="BytesCached">Freed by the caller, kept for reuse, not yet returned to the driver.</param>
/// <param name="NativeAllocations">Calls that reached the underlying allocator.</param>
/// <param name="Reuses">Allocations served from the cache.</param>
internal readonly record struct DeviceAllocatorStats(ulong BytesInUse, ulong PeakBytesInUse, ulong BytesCached,
    long NativeAllocations, long Reuses);

/// <summary>
/// A caching allocator for device memory: cuMemAlloc and cuMemFree synchronise the device and cost
/// tens of microseconds, so freed blocks are kept in per-size free lists and handed out again.
/// Requests are rounded up to a size class: 512 bytes for anything up to 512, else the next power of
/// two. Blocks are never split or merged, so a class serves only its own size.
/// </summary>
/// <remarks>
/// Power-of-two classes waste up to half of a large block; that is the price of exact reuse without
/// a best-fit search, acceptable while one session's tensors repeat the same sizes every step. When
/// the device is out of memory, the cache is released and the allocation retried once.
/// Not tied to a stream: the caller must only free a block once no queued work still uses it (one
/// stream per session, as here, makes stream order sufficient). Thread-safe.
/// </remarks>
internal sealed class CachingDeviceAllocator : IDisposable
{
    /// <summary>The smallest size class; cuMemAlloc aligns to at least 256 bytes anyway.</summary>
    internal const ulong MinBlock = 512;

    private const int OutOfMemory = 2; // CUDA_ERROR_OUT_OF_MEMORY

    private readonly IDeviceMemory _memory;
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, Stack<ulong>> _free = [];
    private readonly Dictionary<ulong, ulong> _live = [];
    private readonly HashSet<ulong> _cached = [];
    private ulong _inUse, _peak, _cachedBytes;
    private long _nativeAllocations, _reuses;
    private bool _disposed;

    /// <summary>Caches blocks obtained from <paramref name="memory"/>.</summary>
    public CachingDeviceAllocator(IDeviceMemory memory) => _memory = memory;

    /// <summary>The size class of a request of <paramref name="bytes"/> bytes (0 bytes gets the smallest class).</summary>
    internal static ulong SizeClass(ulong bytes)
    {
        if (bytes <= MinBlock) return MinBlock;
        if (bytes > 1UL << 63) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "larger than any size class");
        return ulong.IsPow2(bytes) ? bytes : 1UL << (64 - (int)ulong.LeadingZeroCount(bytes));
    }

    /// <summary>A block of at least <paramref name="bytes"/> bytes, from the cache when one of its class is free.</summary>
    public ulong Allocate(ulong bytes)
    {
        var size = SizeClass(bytes);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_free.TryGetValue(size, out var stack) && stack.Count > 0)
            {
                var reused = stack.Pop();
                _cached.Remove(reused);
                _cachedBytes -= size;
                _reuses++;
                return Track(reused, size);
            }
            ulong address;
            try
            {
                address = _memory.Allocate(size);
            }
            catch (CudaException e) when (e.Code == OutOfMemory && _cachedBytes > 0)
            {
                // Blocks of other classes may be what the device is missing: give them back and retry once.
                ReleaseCachedLocked();
                address = _memory.Allocate(size);
            }
            _nativeAllocations++;
            return Track(address, size);
        }
    }

    /// <summary>Returns a block to the cache.</summary>
    /// <exception cref="InvalidOperationException">The address was already freed, or never came from this allocator.</exception>
    public void Free(ulong address)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_live.Remove(address, out var size))
            {
                throw new InvalidOperationException(_cached.Contains(address)
                    ? $"Double free of device block 0x{address:x}."
                    : $"Device address 0x{address:x} was not allocated by this allocator.");
            }
            _inUse -= size;
            if (!_free.TryGetValue(size, out var stack)) _free[size] = stack = new Stack<ulong>();
            stack.Push(address);
            _cached.Add(address);
            _cachedBytes += size;
        }
    }

    /// <summary>Frees every cached block through the underlying allocator; returns the bytes released.</summary>
    public ulong ReleaseCached()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return ReleaseCachedLocked();
        }
    }

    /// <summary>Current counters.</summary>
    public DeviceAllocatorStats Stats
    {
        get
        {
            lock (_gate) return new(_inUse, _peak, _cachedBytes, _nativeAllocations, _reuses);
        }
    }

    /// <summary>Frees cached and live blocks alike: a disposed session's memory goes back to the device.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            ReleaseCachedLocked();
            foreach (var address in _live.Keys) _memory.Free(address);
            _live.Clear();
            _inUse = 0;
            _disposed = true;
        }
    }

    private ulong Track(ulong address, ulong size)
    {
        _live.Add(address, size);
        _inUse += size;
        _peak = Math.Max(_peak, _inUse);
        return address;
    }

    private ulong ReleaseCachedLocked()
    {
        var released = 0UL;
        foreach (var (size, stack) in _free)
            while (stack.Count > 0)
            {
                // Counters move per block, so a driver error part-way leaves them true to what is still cached.
                var address = stack.Pop();
                _cached.Remove(address);
                _cachedBytes -= size;
                _memory.Free(address);
                released += size;
            }
        return released;
    }
}
