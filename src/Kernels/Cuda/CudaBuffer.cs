namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: written without a GPU (session 2026-12-01 e); tested on the PTX emulator only.

/// <summary>
/// A buffer in CUDA device memory: <see cref="DeviceBuffer.Length"/> elements of <see cref="DeviceBuffer.DType"/>
/// at <see cref="Address"/>, in their natural sizes (bool one byte). Either a block of its own, returned to its
/// <see cref="CudaAllocator"/> by <see cref="IAllocator.Free"/> or <see cref="Dispose"/>, or a view into an arena
/// (the memory plan's intermediates), which owns nothing.
/// </summary>
public sealed class CudaBuffer : DeviceBuffer
{
    private readonly CudaAllocator? _owner;

    internal CudaBuffer(DType dtype, int length, ulong address, ulong bytes, CudaAllocator? owner) : base(dtype, length)
    {
        Address = address;
        Bytes = bytes;
        _owner = owner;
    }

    /// <summary>The device address of element 0.</summary>
    public ulong Address { get; }

    /// <summary>Bytes this buffer may touch (its elements; for an arena, the whole arena).</summary>
    public ulong Bytes { get; }

    /// <summary>True for a block of its own (a buffer or an arena), false for a view.</summary>
    public bool IsOwner => _owner is not null;

    /// <summary>True once an owned block went back to its allocator.</summary>
    internal bool Freed { get; set; }

    /// <summary>The device address of element <paramref name="index"/>.</summary>
    public ulong At(long index) => Address + (ulong)(index * DType.SizeOf());

    /// <summary>Returns an owned block to its allocator (once; a view does nothing). Queued work on the session's one stream may still use it: the caching allocator hands the block out again only to later work on the same stream.</summary>
    public override void Dispose()
    {
        if (_owner is not null && !Freed) _owner.Free(this);
        base.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"{DType.Name()}[{Length}] at 0x{Address:x}{(IsOwner ? "" : " (view)")}";
}
