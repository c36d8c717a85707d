using System.Globalization;
using System.Text;
using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// A dense, row-major host tensor: a fully known <see cref="Shape"/>, a <see cref="DType"/> and a
/// flat array of the dtype's .NET element type (float[], double[], int[], long[], bool[]).
/// Tensors are values: the engine never mutates a tensor it was given.
/// </summary>
public sealed partial class Tensor
{
    private readonly Array _data;

    /// <summary>Wraps a flat array (not copied) with a shape; the array's element type must match the dtype.</summary>
    public Tensor(Array data, Shape shape, DType dtype)
    {
        if (!shape.IsFullyDefined) throw new ArgumentException($"a tensor's shape must be fully defined, got {shape}", nameof(shape));
        if (data.GetType().GetElementType() != dtype.ClrType() || data.Rank != 1)
            throw new ArgumentException($"a {dtype.Name()} tensor needs a flat {dtype.ClrType().Name}[], got {data.GetType().Name}", nameof(data));
        if (data.Length != shape.ElementCount)
            throw new ArgumentException($"shape {shape} needs {(shape.ElementCount > Shape.MaxElements ? "more than 2^31-1" : shape.ElementCount)} elements, got {data.Length}", nameof(data));
        _data = data;
        Shape = shape;
        DType = dtype;
    }

    /// <summary>Shape (always fully defined).</summary>
    public Shape Shape { get; }

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Rank;

    /// <summary>Number of elements.</summary>
    public int Size => _data.Length;

    /// <summary>The flat storage (not a copy).</summary>
    internal Array Data => _data;

    /// <summary>
    /// The same elements under another shape of the same size, sharing this tensor's storage (no copy,
    /// unlike the graph op <c>Reshape</c>). Sharing is safe because tensors are never mutated.
    /// </summary>
    /// <exception cref="ArgumentException">The shape is not fully defined or holds another number of elements.</exception>
    public Tensor WithShape(Shape shape) => new(_data, shape, DType);

    /// <summary>A copy of the flat data; <typeparamref name="T"/> must be the dtype's element type.</summary>
    public T[] ToArray<T>()
    {
        if (_data is not T[] typed)
            throw new InvalidOperationException($"tensor is {DType.Name()}; ToArray<{typeof(T).Name}>() needs {DType.ClrType().Name}");
        return (T[])typed.Clone();
    }

    /// <summary>
    /// The flat data, read-only and without a copy (row-major); <typeparamref name="T"/> must be the dtype's element
    /// type. Safe to hand out because tensors are never mutated.
    /// </summary>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> is not the dtype's element type.</exception>
    public ReadOnlySpan<T> AsSpan<T>() => _data is T[] typed
        ? typed
        : throw new InvalidOperationException($"tensor is {DType.Name()}; AsSpan<{typeof(T).Name}>() needs {DType.ClrType().Name}");

    /// <summary>A copy of the data converted to float64 (bool → 0/1).</summary>
    public double[] ToDoubleArray()
    {
        var r = new double[_data.Length];
        switch (_data)
        {
            case float[] f: for (var i = 0; i < f.Length; i++) r[i] = f[i]; break;
            case double[] d: Array.Copy(d, r, d.Length); break;
            case int[] n: for (var i = 0; i < n.Length; i++) r[i] = n[i]; break;
            case long[] l: for (var i = 0; i < l.Length; i++) r[i] = l[i]; break;
            case bool[] b: for (var i = 0; i < b.Length; i++) r[i] = b[i] ? 1 : 0; break;
        }
        return r;
    }

    /// <summary>The element at a multi-index (negative indices are not accepted), converted to double.</summary>
    public double this[params int[] index] => GetDouble(FlatIndex(index));

    /// <summary>The element at a multi-index, typed; <typeparamref name="T"/> must be the dtype's element type.</summary>
    public T Get<T>(params int[] index) => Typed<T>(nameof(Get))[FlatIndex(index)];

    /// <summary>The single element of a size-1 tensor.</summary>
    public T ToScalar<T>() => _data.Length == 1 ? Typed<T>(nameof(ToScalar))[0] : throw new InvalidOperationException($"ToScalar() needs exactly one element, shape is {Shape}");

    /// <summary>The storage as T[], or the same InvalidOperationException as <see cref="ToArray{T}"/> (a bare cast threw InvalidCastException naming no dtype).</summary>
    private T[] Typed<T>(string method) => _data as T[]
        ?? throw new InvalidOperationException($"tensor is {DType.Name()}; {method}<{typeof(T).Name}>() needs {DType.ClrType().Name}");

    private int FlatIndex(int[] index)
    {
        if (index.Length != Rank) throw new ArgumentOutOfRangeException(nameof(index), $"index has {index.Length} components, tensor has rank {Rank}");
        var flat = 0;
        for (var d = 0; d < Rank; d++)
        {
            if ((uint)index[d] >= (uint)Shape[d]) throw new ArgumentOutOfRangeException(nameof(index), $"index {index[d]} out of range for axis {d} of size {Shape[d]}");
            flat = flat * Shape[d] + index[d];
        }
        return flat;
    }

    private double GetDouble(int i) => _data switch
    {
        float[] f => f[i],
        double[] d => d[i],
        int[] n => n[i],
        long[] l => l[i],
        bool[] b => b[i] ? 1 : 0,
        _ => throw new InvalidOperationException(),
    };

    private string FormatElement(int i) => _data switch
    {
        float[] f => f[i].ToString("G7", CultureInfo.InvariantCulture),
        double[] d => d[i].ToString("G10", CultureInfo.InvariantCulture),
        int[] n => n[i].ToString(CultureInfo.InvariantCulture),
        long[] l => l[i].ToString(CultureInfo.InvariantCulture),
        bool[] b => b[i] ? "True" : "False",
        _ => "?",
    };

    /// <summary>
    /// TensorFlow-like text: values nested by dimension, abbreviated with "..." past 1000 elements
    /// (three items at each end of every axis, as NumPy does), then shape and dtype.
    /// </summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        var abbreviate = Size > 1000;
        Append(sb, 0, 0, abbreviate);
        sb.Append(", shape=").Append(Shape).Append(", dtype=").Append(DType.Name());
        return "Tensor(" + sb + ")";
    }

    private void Append(StringBuilder sb, int axis, int offset, bool abbreviate)
    {
        if (axis == Rank) { sb.Append(FormatElement(offset)); return; }
        var n = Shape[axis];
        var stride = 1;
        for (var d = axis + 1; d < Rank; d++) stride *= Shape[d];
        // The ellipsis takes the place of one item, with the same separator on both sides, as NumPy's repr:
        // "[0, 1, 2, ..., 7, 8, 9]", and on its own line between rows. (It used to be glued to the
        // previous item: "[0, 1, 2..., 7, 8, 9]".)
        var separator = axis == Rank - 1 ? ", " : ",\n" + new string(' ', axis + 1);
        sb.Append('[');
        for (var i = 0; i < n; i++)
        {
            if (i > 0) sb.Append(separator);
            if (abbreviate && n > 6 && i == 3) { sb.Append("...").Append(separator); i = n - 3; }
            Append(sb, axis + 1, offset + i * stride, abbreviate);
        }
        sb.Append(']');
    }
}
