using System.Collections;

namespace Nabla;

/// <summary>
/// A tensor shape. In a graph, a dimension may be unknown (−1, printed "?"), e.g. the batch;
/// a <see cref="Tensor"/>'s shape is always fully known.
/// </summary>
public sealed class Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    private readonly int[] _dims;

    /// <summary>Creates a shape; −1 marks an unknown dimension.</summary>
    public Shape(params int[] dims)
    {
        foreach (var d in dims)
            if (d < -1) throw new ArgumentException($"invalid dimension {d} in {Format(dims)}", nameof(dims));
        _dims = (int[])dims.Clone();
    }

    /// <summary>The rank-0 shape.</summary>
    public static Shape Scalar { get; } = new();

    /// <summary>Number of dimensions.</summary>
    public int Rank => _dims.Length;

    /// <summary>Dimension <paramref name="axis"/> (−1 if unknown).</summary>
    public int this[int axis] => _dims[axis];

    /// <inheritdoc/>
    public int Count => _dims.Length;

    /// <summary>True when no dimension is unknown.</summary>
    public bool IsFullyDefined => Array.IndexOf(_dims, -1) < 0;

    /// <summary>
    /// The most elements one tensor may hold: buffers and kernels index elements with <see cref="int"/>.
    /// Building a node whose output would be larger fails with <see cref="ShapeException"/>.
    /// </summary>
    public const int MaxElements = int.MaxValue;

    /// <summary>Number of elements (−1 if any dimension is unknown).</summary>
    /// <exception cref="ShapeException">The shape has more than <see cref="MaxElements"/> elements; the message names it.</exception>
    public int Size
    {
        get
        {
            var n = ElementCount;
            return n > MaxElements ? throw new ShapeException($"shape {this} has more than 2^31-1 elements") : (int)n;
        }
    }

    /// <summary>Number of elements as a <see cref="long"/>, saturating at <see cref="long.MaxValue"/>; −1 if any dimension is unknown.</summary>
    internal long ElementCount
    {
        get
        {
            if (!IsFullyDefined) return -1;
            if (Array.IndexOf(_dims, 0) >= 0) return 0;
            long n = 1;
            foreach (var d in _dims)
                n = n > long.MaxValue / d ? long.MaxValue : n * d;
            return n;
        }
    }

    /// <summary>A copy of the dimensions.</summary>
    public int[] ToArray() => (int[])_dims.Clone();

    internal ReadOnlySpan<int> Span => _dims;

    /// <summary>Row-major strides in elements.</summary>
    public int[] Strides()
    {
        var s = new int[Rank];
        var acc = 1;
        for (var d = Rank - 1; d >= 0; d--) { s[d] = acc; acc *= Math.Max(_dims[d], 1); }
        return s;
    }

    /// <summary>True when the shapes could describe the same tensor (unknown dims match anything).</summary>
    public bool IsCompatibleWith(Shape other)
    {
        if (Rank != other.Rank) return false;
        for (var i = 0; i < Rank; i++)
            if (_dims[i] >= 0 && other._dims[i] >= 0 && _dims[i] != other._dims[i]) return false;
        return true;
    }

    /// <summary>Resolves a possibly negative axis against this rank, or returns −1 if out of range.</summary>
    public int NormalizeAxis(int axis) => axis < -Rank || axis >= Rank ? -1 : (axis < 0 ? axis + Rank : axis);

    /// <inheritdoc/>
    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in _dims) h.Add(d);
        return h.ToHashCode();
    }

    /// <summary>Value equality.</summary>
    public static bool operator ==(Shape? a, Shape? b) => a is null ? b is null : a.Equals(b);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(Shape? a, Shape? b) => !(a == b);

    /// <summary>Shapes convert implicitly from dimension arrays.</summary>
    public static implicit operator Shape(int[] dims) => new(dims);

    /// <summary>"[?,784]"</summary>
    public override string ToString() => Format(_dims);

    internal static string Format(ReadOnlySpan<int> dims)
    {
        var parts = new string[dims.Length];
        for (var i = 0; i < dims.Length; i++) parts[i] = dims[i] < 0 ? "?" : dims[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "[" + string.Join(",", parts) + "]";
    }

    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)_dims).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _dims.GetEnumerator();
}
