namespace Nabla.Kernels;

/// <summary>
/// A flat, contiguous block of elements owned by one backend. Shapes live above this layer:
/// kernels receive lengths, strides and dimension lists.
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

    /// <summary>Releases device memory (no-op for host buffers).</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>
/// A buffer in host memory. <see cref="Data"/> is the backend's storage array, whose element type
/// may differ from <see cref="DeviceBuffer.DType"/>: the reference backend keeps every floating
/// dtype as <c>double[]</c>.
/// </summary>
public sealed class HostBuffer : DeviceBuffer
{
    /// <summary>Wraps a storage array.</summary>
    public HostBuffer(DType dtype, Array data) : base(dtype, data.Length) => Data = data;

    /// <summary>The storage array.</summary>
    public Array Data { get; }

    /// <summary>The storage as a typed span.</summary>
    public Span<T> Span<T>() => ((T[])Data).AsSpan();

    /// <summary>The storage as a typed array.</summary>
    public T[] Array<T>() => (T[])Data;
}
