namespace Nabla.Kernels;

/// <summary>
/// Memory and transfers of one backend, split from compute as tinygrad's <c>Allocator</c> and
/// candle's <c>BackendDevice</c> are. The engine's static memory plan sits on top: it asks for one
/// arena per <see cref="ArenaOf">arena kind</see> and places every intermediate buffer of a step at
/// a planned offset in it, so the allocator is only called when a plan grows the arena, for
/// variables and constants, and never inside a step.
/// </summary>
/// <remarks>
/// Transfers obey the stream contract of <see cref="IBackend"/>: <see cref="Upload"/> and
/// <see cref="Copy"/> are ordered with the compute on the stream (the host array is read before
/// <see cref="Upload"/> returns, so the caller may reuse it); <see cref="Download"/> and
/// <see cref="ReadFloat64"/> wait for all queued work and are the only calls that do.
/// </remarks>
public interface IAllocator
{
    /// <summary>Byte alignment of every buffer and arena view (64: one cache line, one AVX-512 vector).</summary>
    int Alignment { get; }

    /// <summary>Which arena buffers of <paramref name="dtype"/> live in (a host backend needs one per storage element type; a device has one).</summary>
    int ArenaOf(DType dtype);

    /// <summary>Bytes per element of <paramref name="dtype"/> in this backend's storage.</summary>
    int StorageBytes(DType dtype);

    /// <summary>Allocates a buffer of its own (zeroed), freed by <see cref="Free"/>.</summary>
    DeviceBuffer Allocate(DType dtype, int length);

    /// <summary>Allocates arena <paramref name="arena"/> (see <see cref="ArenaOf"/>) of at least <paramref name="bytes"/> bytes, aligned to <see cref="Alignment"/>.</summary>
    DeviceBuffer AllocateArena(int arena, long bytes);

    /// <summary>A buffer of <paramref name="length"/> elements at <paramref name="byteOffset"/> (a multiple of <see cref="Alignment"/>) of an arena; no memory is allocated.</summary>
    DeviceBuffer View(DeviceBuffer arena, long byteOffset, DType dtype, int length);

    /// <summary>Returns a buffer from <see cref="Allocate"/> or <see cref="AllocateArena"/>; the caller guarantees no queued work still uses it.</summary>
    void Free(DeviceBuffer buffer);

    /// <summary>Enqueues a copy of a host array (element type <see cref="DTypeInfo.ClrType"/>) into a buffer of equal length.</summary>
    void Upload(Array host, DeviceBuffer dst);

    /// <summary>
    /// A buffer that reads <paramref name="host"/> in place, without a copy, or null when this backend cannot (device memory,
    /// an asynchronous stream that could read it after the caller changed it, or a storage type other than the array's).
    /// The caller guarantees that nothing writes through it and that it is used only until the current run returns.
    /// </summary>
    DeviceBuffer? Borrow(Array host, DType dtype) => null;

    /// <summary>Waits for the stream, then copies a buffer into a host array (element type <see cref="DTypeInfo.ClrType"/>) of equal length.</summary>
    void Download(DeviceBuffer src, Array host);

    /// <summary>Waits for the stream, then reads any buffer as float64 values at the backend's full storage precision.</summary>
    double[] ReadFloat64(DeviceBuffer src);

    /// <summary>Enqueues a write of float64 values into a buffer, rounding to its storage precision.</summary>
    void WriteFloat64(ReadOnlySpan<double> src, DeviceBuffer dst);

    /// <summary>Enqueues a device-to-device copy of equal-length buffers of one dtype.</summary>
    void Copy(DeviceBuffer src, DeviceBuffer dst);

    /// <summary>Counters since the backend was created: allocations, bytes held, transfers each way.</summary>
    AllocatorStats Stats { get; }
}

/// <summary>What an <see cref="IAllocator"/> has done: calls that reached the underlying memory, and transfers across the host–device boundary.</summary>
/// <param name="Allocations">Buffers and arenas allocated (each reached the system or driver allocator).</param>
/// <param name="Frees">Buffers and arenas freed.</param>
/// <param name="BytesInUse">Bytes held by live buffers and arenas (alignment padding included).</param>
/// <param name="PeakBytesInUse">Largest <paramref name="BytesInUse"/> seen.</param>
/// <param name="Uploads">Host-to-device transfers (<see cref="IAllocator.Upload"/>, <see cref="IAllocator.WriteFloat64"/>).</param>
/// <param name="UploadBytes">Bytes uploaded, in the host's element size.</param>
/// <param name="Downloads">Device-to-host transfers (<see cref="IAllocator.Download"/>, <see cref="IAllocator.ReadFloat64"/>), each a wait for the stream.</param>
/// <param name="DownloadBytes">Bytes downloaded, in the host's element size.</param>
public readonly record struct AllocatorStats(long Allocations, long Frees, long BytesInUse, long PeakBytesInUse,
    long Uploads, long UploadBytes, long Downloads, long DownloadBytes);
