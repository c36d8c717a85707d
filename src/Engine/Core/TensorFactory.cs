using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>A float32 tensor from flat data and a shape (default: 1-D).</summary>
    public static Tensor FromArray(float[] data, params int[] shape) => new((float[])data.Clone(), shape.Length == 0 && data.Length != 1 ? [data.Length] : shape, DType.Float32);

    /// <summary>A float64 tensor from flat data and a shape (default: 1-D).</summary>
    public static Tensor FromArray(double[] data, params int[] shape) => new((double[])data.Clone(), shape.Length == 0 && data.Length != 1 ? [data.Length] : shape, DType.Float64);

    /// <summary>An int32 tensor from flat data and a shape (default: 1-D).</summary>
    public static Tensor FromArray(int[] data, params int[] shape) => new((int[])data.Clone(), shape.Length == 0 && data.Length != 1 ? [data.Length] : shape, DType.Int32);

    /// <summary>An int64 tensor from flat data and a shape (default: 1-D).</summary>
    public static Tensor FromArray(long[] data, params int[] shape) => new((long[])data.Clone(), shape.Length == 0 && data.Length != 1 ? [data.Length] : shape, DType.Int64);

    /// <summary>A bool tensor from flat data and a shape (default: 1-D).</summary>
    public static Tensor FromArray(bool[] data, params int[] shape) => new((bool[])data.Clone(), shape.Length == 0 && data.Length != 1 ? [data.Length] : shape, DType.Bool);

    /// <summary>A tensor from a multi-dimensional .NET array (float[,], int[,,], ...); the shape is the array's.</summary>
    public static Tensor FromMultiArray(Array data)
    {
        var elem = data.GetType().GetElementType()!;
        var dtype = elem == typeof(float) ? DType.Float32 : elem == typeof(double) ? DType.Float64
            : elem == typeof(int) ? DType.Int32 : elem == typeof(long) ? DType.Int64
            : elem == typeof(bool) ? DType.Bool : throw new ArgumentException($"unsupported element type {elem.Name}", nameof(data));
        var shape = new int[data.Rank];
        for (var d = 0; d < data.Rank; d++) shape[d] = data.GetLength(d);
        var flat = dtype.NewArray(data.Length);
        var i = 0;
        foreach (var v in data) flat.SetValue(v, i++);
        return new Tensor(flat, shape, dtype);
    }

    /// <summary>A rank-0 float32 tensor.</summary>
    public static Tensor Scalar(float value) => new(new[] { value }, Shape.Scalar, DType.Float32);

    /// <summary>A rank-0 float64 tensor.</summary>
    public static Tensor Scalar(double value) => new(new[] { value }, Shape.Scalar, DType.Float64);

    /// <summary>A rank-0 int32 tensor.</summary>
    public static Tensor Scalar(int value) => new(new[] { value }, Shape.Scalar, DType.Int32);

    /// <summary>A rank-0 int64 tensor.</summary>
    public static Tensor Scalar(long value) => new(new[] { value }, Shape.Scalar, DType.Int64);

    /// <summary>A rank-0 bool tensor.</summary>
    public static Tensor Scalar(bool value) => new(new[] { value }, Shape.Scalar, DType.Bool);

    /// <summary>
    /// The most elements a host tensor made by a factory may hold: a .NET array's limit
    /// (<see cref="Array.MaxLength"/>, slightly under <see cref="Shape.MaxElements"/>).
    /// </summary>
    public static int MaxHostElements => Array.MaxLength;

    /// <summary>A tensor with every element equal to <paramref name="value"/> (converted to the dtype).</summary>
    /// <exception cref="ArgumentException">The shape is not fully defined or has more than <see cref="MaxHostElements"/> elements.</exception>
    public static Tensor Fill(Shape shape, double value, DType dtype = DType.Float32)
    {
        var data = FromDoubles(Enumerable.Repeat(value, HostSize(shape, nameof(shape))).ToArray(), dtype);
        return new Tensor(data, shape, dtype);
    }

    /// <summary>All zeros.</summary>
    /// <exception cref="ArgumentException">The shape is not fully defined or has more than <see cref="MaxHostElements"/> elements.</exception>
    public static Tensor Zeros(Shape shape, DType dtype = DType.Float32) => new(dtype.NewArray(HostSize(shape, nameof(shape))), shape, dtype);

    /// <summary>All ones.</summary>
    /// <exception cref="ArgumentException">The shape is not fully defined or has more than <see cref="MaxHostElements"/> elements.</exception>
    public static Tensor Ones(Shape shape, DType dtype = DType.Float32) => Fill(shape, 1, dtype);

    /// <summary>start, start+delta, ... up to but excluding limit (as tf.range).</summary>
    /// <exception cref="ArgumentException">
    /// delta is zero, an argument is NaN or infinite, or the range has more than <see cref="MaxHostElements"/> values
    /// (e.g. <c>Range(0, 1e10)</c> or a delta of 1e-300).
    /// </exception>
    public static Tensor Range(double start, double limit, double delta = 1, DType dtype = DType.Float32)
    {
        if (delta == 0) throw new ArgumentException("delta must not be zero", nameof(delta));
        if (!double.IsFinite(start) || !double.IsFinite(limit) || !double.IsFinite(delta))
            throw new ArgumentException($"Range({start}, {limit}, {delta}): start, limit and delta must be finite", nameof(limit));
        // Counted in double: the quotient can be far beyond int (1e10 values, or a delta of 1e-300).
        var count = Math.Max(0, Math.Ceiling((limit - start) / delta));
        if (!(count <= MaxHostElements))
            throw new ArgumentException($"Range({start}, {limit}, {delta}) would have {count:G6} values; a host tensor holds at most {MaxHostElements}", nameof(limit));
        var n = (int)count;
        var v = new double[n];
        for (var i = 0; i < n; i++) v[i] = start + i * delta;
        return new Tensor(FromDoubles(v, dtype), new[] { n }, dtype);
    }

    /// <summary><paramref name="num"/> evenly spaced values from start to stop inclusive (as tf.linspace).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="num"/> is below 1 or above <see cref="MaxHostElements"/>.</exception>
    public static Tensor Linspace(double start, double stop, int num, DType dtype = DType.Float32)
    {
        if (num < 1) throw new ArgumentOutOfRangeException(nameof(num), num, "linspace needs at least one value");
        if (num > MaxHostElements) throw new ArgumentOutOfRangeException(nameof(num), num, $"a host tensor holds at most {MaxHostElements} values");
        var v = new double[num];
        for (var i = 0; i < num; i++) v[i] = num == 1 ? start : start + (stop - start) * i / (num - 1);
        // Pin the end exactly against rounding in the formula; with num == 1 the single value is start (tf.linspace), not stop.
        if (num > 1) v[num - 1] = stop;
        return new Tensor(FromDoubles(v, dtype), new[] { num }, dtype);
    }

    /// <summary>Uniform values on [min, max) from the Philox stream for <paramref name="seed"/>: the values the first run of <c>graph.RandomUniform(shape, min, max, seed)</c> draws on any device when the graph seed is 0.</summary>
    /// <exception cref="ArgumentException">The dtype is not floating, or the shape is not fully defined or has more than <see cref="MaxHostElements"/> elements.</exception>
    public static Tensor RandomUniform(Shape shape, double min = 0, double max = 1, ulong seed = 0, DType dtype = DType.Float32)
        => Random(RandomDistribution.Uniform, shape, min, max, seed, dtype);

    /// <summary>Normal values from the Philox stream for <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentException">The dtype is not floating, or the shape is not fully defined or has more than <see cref="MaxHostElements"/> elements.</exception>
    public static Tensor RandomNormal(Shape shape, double mean = 0, double stddev = 1, ulong seed = 0, DType dtype = DType.Float32)
        => Random(RandomDistribution.Normal, shape, mean, stddev, seed, dtype);

    private static Tensor Random(RandomDistribution dist, Shape shape, double a, double b, ulong seed, DType dtype)
    {
        if (!dtype.IsFloating()) throw new ArgumentException($"random tensors must be float32 or float64, got {dtype.Name()}", nameof(dtype));
        var v = new double[HostSize(shape, nameof(shape))];
        for (var i = 0; i < v.Length; i++) v[i] = Philox.Sample(dist, Philox.Key(0, seed), 0, i, a, b);
        return new Tensor(FromDoubles(v, dtype), shape, dtype);
    }

    /// <summary>The element count of a shape a host factory is asked for, or an <see cref="ArgumentException"/> naming it.</summary>
    private static int HostSize(Shape shape, string paramName)
    {
        if (!shape.IsFullyDefined) throw new ArgumentException($"a tensor's shape must be fully defined, got {shape}", paramName);
        var n = shape.ElementCount;
        if (n > MaxHostElements)
            throw new ArgumentException($"shape {shape} has {(n == long.MaxValue ? "more than 2^63-1" : n.ToString(System.Globalization.CultureInfo.InvariantCulture))} elements; a host tensor holds at most {MaxHostElements}", paramName);
        return (int)n;
    }

    /// <summary>Converts doubles to a flat array of the dtype's element type.</summary>
    internal static Array FromDoubles(double[] v, DType dtype)
    {
        switch (dtype)
        {
            case DType.Float64: return v;
            case DType.Float32: { var r = new float[v.Length]; for (var i = 0; i < v.Length; i++) r[i] = (float)v[i]; return r; }
            case DType.Int32: { var r = new int[v.Length]; for (var i = 0; i < v.Length; i++) r[i] = (int)v[i]; return r; }
            case DType.Int64: { var r = new long[v.Length]; for (var i = 0; i < v.Length; i++) r[i] = (long)v[i]; return r; }
            default: { var r = new bool[v.Length]; for (var i = 0; i < v.Length; i++) r[i] = v[i] != 0; return r; }
        }
    }

    /// <summary>Implicit float scalar.</summary>
    public static implicit operator Tensor(float v) => Scalar(v);

    /// <summary>Implicit double scalar.</summary>
    public static implicit operator Tensor(double v) => Scalar(v);

    /// <summary>Implicit int scalar.</summary>
    public static implicit operator Tensor(int v) => Scalar(v);

    /// <summary>Implicit float vector.</summary>
    public static implicit operator Tensor(float[] v) => FromArray(v, v.Length);

    /// <summary>Implicit double vector.</summary>
    public static implicit operator Tensor(double[] v) => FromArray(v, v.Length);

    /// <summary>Implicit int vector.</summary>
    public static implicit operator Tensor(int[] v) => FromArray(v, v.Length);

    /// <summary>Implicit float matrix.</summary>
    public static implicit operator Tensor(float[,] v) => FromMultiArray(v);

    /// <summary>Implicit double matrix.</summary>
    public static implicit operator Tensor(double[,] v) => FromMultiArray(v);
}
