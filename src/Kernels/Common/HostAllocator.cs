using System.Numerics;
using System.Runtime.CompilerServices;

namespace Nabla.Kernels;

/// <summary>
/// The allocator of the host backends. A managed array holds one element type, so there is one arena
/// per storage type (float32, float64, int32, int64, bool). Every buffer is a view of a pinned array
/// starting at a 64-byte-aligned address: SIMD kernels (TensorPrimitives aligns its main loop to the
/// destination) then split every buffer into vectors at the same element indices, which makes
/// float32 results independent of where the GC happened to place an array.
/// </summary>
/// <remarks>Upload and download are plain copies: the host backends' stream is the calling thread.
/// Not thread-safe (one session runs one request at a time).</remarks>
public sealed class HostAllocator : IAllocator
{
    private readonly Func<DType, DType> _storageOf;
    private long _allocations, _frees, _bytesInUse, _peak, _uploads, _uploadBytes, _downloads, _downloadBytes;

    /// <summary>Creates an allocator whose storage type for each logical dtype is <paramref name="storageOf"/>.</summary>
    public HostAllocator(Func<DType, DType> storageOf) => _storageOf = storageOf;

    /// <inheritdoc/>
    public int Alignment => 64;

    /// <inheritdoc/>
    public int ArenaOf(DType dtype) => (int)_storageOf(dtype);

    /// <inheritdoc/>
    public int StorageBytes(DType dtype) => _storageOf(dtype).SizeOf();

    /// <inheritdoc/>
    public DeviceBuffer Allocate(DType dtype, int length) => NewAligned(dtype, _storageOf(dtype), length);

    /// <inheritdoc/>
    public DeviceBuffer AllocateArena(int arena, long bytes)
    {
        var storage = (DType)arena;
        var length = checked((int)((bytes + storage.SizeOf() - 1) / storage.SizeOf()));
        return NewAligned(storage, storage, length);
    }

    /// <inheritdoc/>
    public DeviceBuffer View(DeviceBuffer arena, long byteOffset, DType dtype, int length)
    {
        var a = (HostBuffer)arena;
        var size = _storageOf(dtype).SizeOf();
        if (byteOffset % Alignment != 0) throw new ArgumentException($"arena offset {byteOffset} is not a multiple of {Alignment}", nameof(byteOffset));
        return new HostBuffer(dtype, a.Storage, a.Offset + checked((int)(byteOffset / size)), length);
    }

    /// <inheritdoc/>
    public void Free(DeviceBuffer buffer)
    {
        _frees++;
        _bytesInUse -= Footprint((HostBuffer)buffer);
    }

    private HostBuffer NewAligned(DType dtype, DType storage, int length)
    {
        var size = storage.SizeOf();
        var pad = Alignment / size;
        var array = storage switch
        {
            DType.Float32 => (Array)GC.AllocateArray<float>(length + pad, pinned: true),
            DType.Float64 => GC.AllocateArray<double>(length + pad, pinned: true),
            DType.Int32 => GC.AllocateArray<int>(length + pad, pinned: true),
            DType.Int64 => GC.AllocateArray<long>(length + pad, pinned: true),
            DType.Bool => GC.AllocateArray<bool>(length + pad, pinned: true),
            _ => throw new NotSupportedException($"no host storage for {storage}"),
        };
        var b = new HostBuffer(dtype, array, AlignedStart(array, size), length);
        _allocations++;
        _bytesInUse += Footprint(b);
        _peak = Math.Max(_peak, _bytesInUse);
        return b;
    }

    /// <summary>The first element index whose address is a multiple of <see cref="Alignment"/> (the array is pinned, so the address is stable).</summary>
    private unsafe int AlignedStart(Array pinned, int size)
    {
        var address = (nuint)Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(pinned));
        var misalignment = (int)(address % (nuint)Alignment);
        return misalignment == 0 ? 0 : (Alignment - misalignment) / size;
    }

    private static long Footprint(HostBuffer b) => (long)b.Storage.Length * StorageDType(b.Storage).SizeOf();

    private static DType StorageDType(Array a) => a switch
    {
        float[] => DType.Float32,
        double[] => DType.Float64,
        int[] => DType.Int32,
        long[] => DType.Int64,
        _ => DType.Bool,
    };

    /// <inheritdoc/>
    public void Upload(Array host, DeviceBuffer dst)
    {
        _uploads++;
        _uploadBytes += host.Length * (long)dst.DType.SizeOf();
        var h = (HostBuffer)dst;
        if (h.Storage.GetType() == host.GetType()) Array.Copy(host, 0, h.Storage, h.Offset, h.Length);
        else HostConvert.Array(host, 0, h.Storage, h.Offset, h.Length);
    }

    /// <inheritdoc/>
    /// <remarks>The host backends run on the calling thread, so a view of the caller's array is safe for the run; only when the array already has this backend's storage type.</remarks>
    public DeviceBuffer? Borrow(Array host, DType dtype) =>
        host is float[] or double[] or int[] or long[] or bool[] && StorageDType(host) == _storageOf(dtype) ? new HostBuffer(dtype, host) : null;

    /// <inheritdoc/>
    public void Download(DeviceBuffer src, Array host)
    {
        _downloads++;
        _downloadBytes += host.Length * (long)src.DType.SizeOf();
        var h = (HostBuffer)src;
        if (h.Storage.GetType() == host.GetType()) Array.Copy(h.Storage, h.Offset, host, 0, h.Length);
        else HostConvert.Array(h.Storage, h.Offset, host, 0, h.Length);
    }

    /// <inheritdoc/>
    public double[] ReadFloat64(DeviceBuffer src)
    {
        var r = new double[src.Length];
        _downloads++;
        _downloadBytes += r.Length * 8L;
        var h = (HostBuffer)src;
        HostConvert.Array(h.Storage, h.Offset, r, 0, h.Length);
        return r;
    }

    /// <inheritdoc/>
    public void WriteFloat64(ReadOnlySpan<double> src, DeviceBuffer dst)
    {
        _uploads++;
        _uploadBytes += src.Length * 8L;
        var h = (HostBuffer)dst;
        HostConvert.Array(src.ToArray(), 0, h.Storage, h.Offset, h.Length);
    }

    /// <inheritdoc/>
    public void Copy(DeviceBuffer src, DeviceBuffer dst)
    {
        HostBuffer s = (HostBuffer)src, d = (HostBuffer)dst;
        if (s.Length != d.Length || s.DType != d.DType) throw new ArgumentException($"Copy needs equal buffers, got {s.DType.Name()}[{s.Length}] and {d.DType.Name()}[{d.Length}]");
        Array.Copy(s.Storage, s.Offset, d.Storage, d.Offset, s.Length);
    }

    /// <inheritdoc/>
    public AllocatorStats Stats => new(_allocations, _frees, _bytesInUse, _peak, _uploads, _uploadBytes, _downloads, _downloadBytes);
}

/// <summary>Element-wise conversion between host storage arrays: floats to ints truncate toward zero (saturating, NaN → 0); nonzero → true.</summary>
internal static class HostConvert
{
    public static void Array(Array from, int fromOffset, Array to, int toOffset, int length)
    {
        switch (from)
        {
            case float[] f: From<float>(f.AsSpan(fromOffset, length), to, toOffset); break;
            case double[] d: From<double>(d.AsSpan(fromOffset, length), to, toOffset); break;
            case int[] i: From<int>(i.AsSpan(fromOffset, length), to, toOffset); break;
            case long[] l: From<long>(l.AsSpan(fromOffset, length), to, toOffset); break;
            case bool[] b when to is float[] f:
                // The hot path of dropout masks and relu gradients: .NET stores bool as one byte holding 0 or 1.
                System.Numerics.Tensors.TensorPrimitives.ConvertChecked<byte, float>(
                    System.Runtime.InteropServices.MemoryMarshal.Cast<bool, byte>(b.AsSpan(fromOffset, length)), f.AsSpan(toOffset, length));
                break;
            case bool[] b:
                var asInt = new int[length];
                for (var k = 0; k < length; k++) asInt[k] = b[fromOffset + k] ? 1 : 0;
                From<int>(asInt, to, toOffset);
                break;
            default: throw new NotSupportedException($"no conversion from {from.GetType().Name}");
        }
    }

    private static void From<T>(ReadOnlySpan<T> from, Array to, int o) where T : INumber<T>
    {
        switch (to)
        {
            case float[] f: for (var k = 0; k < from.Length; k++) f[o + k] = float.CreateSaturating(from[k]); break;
            case double[] d: for (var k = 0; k < from.Length; k++) d[o + k] = double.CreateSaturating(from[k]); break;
            case int[] i: for (var k = 0; k < from.Length; k++) i[o + k] = T.IsNaN(from[k]) ? 0 : int.CreateSaturating(from[k]); break;
            case long[] l: for (var k = 0; k < from.Length; k++) l[o + k] = T.IsNaN(from[k]) ? 0 : long.CreateSaturating(from[k]); break;
            case bool[] b: for (var k = 0; k < from.Length; k++) b[o + k] = from[k] != T.Zero; break;
            default: throw new NotSupportedException($"no conversion to {to.GetType().Name}");
        }
    }
}
