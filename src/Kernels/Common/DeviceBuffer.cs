namespace Nabla.Kernels;

/// <summary>
/// A flat, contiguous block of elements owned by one backend's <see cref="IAllocator"/>: either a
/// buffer of its own (variables, constants) or a view at a planned offset of an arena (the
/// intermediate values of a step). Shapes live above this layer: kernels receive lengths, strides
/// and dimension lists.
/// </summary>
public abstract class DeviceBuffer : IDisposable
{
    /// <summary>Creates a buffer description.</summary>
    protected DeviceBuffer(DType dtype, int length)
    {
        DType = dtype;
        Length = length;
    }

    /// <summary>Logical element type.</summary>
    public DType DType { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>Releases device memory (no-op for host buffers and for arena views, which the arena owns).</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>
/// A buffer in host memory: the elements <c>[Offset, Offset + Length)</c> of a storage array, whose
/// element type may differ from <see cref="DeviceBuffer.DType"/> (the reference backend keeps every
/// floating dtype as <c>double[]</c>). Arena views share one storage array; kernels must only touch
/// their own range, which <see cref="Span{T}"/> and <see cref="Segment{T}"/> enforce.
/// </summary>
public sealed class HostBuffer : DeviceBuffer
{
    /// <summary>Wraps a whole storage array.</summary>
    public HostBuffer(DType dtype, Array storage) : this(dtype, storage, 0, storage.Length) { }

    /// <summary>A view of <paramref name="length"/> elements of <paramref name="storage"/> from <paramref name="offset"/>.</summary>
    public HostBuffer(DType dtype, Array storage, int offset, int length) : base(dtype, length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)offset + length, storage.Length, nameof(length));
        Storage = storage;
        Offset = offset;
    }

    /// <summary>The storage array (shared with other views of the same arena): switch on its type, then use <see cref="Span{T}"/>.</summary>
    public Array Storage { get; }

    /// <summary>Index of element 0 in <see cref="Storage"/>.</summary>
    public int Offset { get; }

    /// <summary>This buffer's elements.</summary>
    public Span<T> Span<T>() => ((T[])Storage).AsSpan(Offset, Length);

    /// <summary>This buffer's elements as a segment (for code that must capture them in a lambda, such as Parallel.For bodies).</summary>
    public ArraySegment<T> Segment<T>() => new((T[])Storage, Offset, Length);
}
