using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>A function from input placeholders to several outputs (split, unstack).</summary>
public delegate Output[] BuildMany(Graph g, Output[] xs);

/// <summary>
/// One forward row: a graph, its inputs, and an independent element-by-element answer. The engine's
/// region ops all run on the backends' shared strided <c>Copy</c>, so CPU-vs-reference alone could
/// not catch a wrong offset or stride; the naive answer (multi-index loops, no strides) can.
/// </summary>
public sealed record ArrayCase(string Name, BuildMany Build, Tensor[] Inputs, Func<Tensor[], Tensor[]> Expected)
{
    /// <summary>Single-output row.</summary>
    public ArrayCase(string name, Build build, Tensor[] inputs, Func<Tensor[], Tensor> expected)
        : this(name, (g, xs) => [build(g, xs)], inputs, ts => [expected(ts)]) { }

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>One gradient row: a differentiable function and float64 inputs.</summary>
public sealed record GradCase(string Name, Build Build, Tensor[] Inputs)
{
    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>Naive multi-index reference implementations and shared assertions for array-op tests.</summary>
public static class ArrayCheck
{
    /// <summary>
    /// Every op in these fixtures is linear in its float inputs (copies, sums of copies), so the
    /// central difference of the check's weighted sum L is exact but for rounding, about ε·|L|/h.
    /// With ε = 2.2e-16, h = 1e-6 and |L| up to ~100 (a pad with constant 5 over 30 elements) that
    /// is 2e-8; 1e-7 leaves a margin, while a misplaced or missing element errs by O(1).
    /// </summary>
    public const double LinearTolerance = 1e-7;

    /// <summary>Runs the row on the Reference device (float64) against its naive answer exactly, and on the CPU (float32) against the reference.</summary>
    public static void Forward(ArrayCase c)
    {
        var reference = Run(c.Build, c.Inputs.Select(OpHarness.ToFloat64).ToArray(), Device.Reference);
        var cpu = Run(c.Build, c.Inputs.Select(OpHarness.ToFloat32).ToArray(), Device.Cpu);
        var expected = c.Expected(c.Inputs);
        Assert.That(reference, Has.Length.EqualTo(expected.Length), "number of outputs");
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.That(reference[i].Shape, Is.EqualTo(expected[i].Shape), $"output {i} shape");
            Assert.That(cpu[i].Shape, Is.EqualTo(expected[i].Shape), $"output {i} CPU shape");
            // Copies are exact: the reference must equal the naive answer bit for bit.
            OpHarness.AssertClose(expected[i].ToDoubleArray(), reference[i].ToDoubleArray(), 0, 0, $"output {i}: reference vs naive");
            // The CPU saw inputs rounded to float32 (relative error ≤ 2⁻²⁴ ≈ 6e-8); copies add nothing.
            OpHarness.AssertClose(reference[i].ToDoubleArray(), cpu[i].ToDoubleArray(), 1e-7, 0, $"output {i}: cpu vs reference");
        }
    }

    /// <summary>Builds on placeholders shaped like the inputs and fetches every output.</summary>
    public static Tensor[] Run(BuildMany f, Tensor[] inputs, Device device, bool unknownDims = false)
    {
        var g = new Graph();
        var xs = inputs.Select((t, i) => g.Placeholder(t.DType, unknownDims ? Unknown(t.Rank) : t.Shape, $"x{i}")).ToArray();
        var ys = f(g, xs);
        using var s = new Session(g, device);
        return s.Run(ys, Feeds(xs, inputs));
    }

    /// <summary>Float64 gradient check with the tolerance justified on <see cref="LinearTolerance"/>.</summary>
    public static void Gradient(GradCase c) => OpHarness.Gradients(c.Build, c.Inputs, LinearTolerance);

    /// <summary>
    /// Gradient check with every input dimension unknown when the graph is built (all sizes come
    /// from the feeds), so gradients must use run-time shapes. L = ½Σy² makes dL/dy = y; the ops
    /// are linear, so L is quadratic and central differences are exact up to rounding.
    /// </summary>
    public static void GradientWithUnknownDims(Build f, Tensor[] inputs)
    {
        var g = new Graph();
        var xs = inputs.Select((t, i) => g.Placeholder(DType.Float64, Unknown(t.Rank), $"x{i}")).ToArray();
        var y = f(g, xs);
        var loss = g.ReduceSum(g.Square(y)) * 0.5;
        var grads = g.Gradients(loss, xs);
        using var s = new Session(g, Device.Reference);
        var values = inputs.Select(t => t.ToDoubleArray()).ToArray();
        Dictionary<Output, Tensor> FeedNow() => xs.Select((x, i) => (x, new Tensor((double[])values[i].Clone(), inputs[i].Shape, DType.Float64))).ToDictionary(p => p.x, p => p.Item2);
        var analytic = s.Run(grads, FeedNow());
        for (var i = 0; i < xs.Length; i++)
        {
            Assert.That(analytic[i].Shape, Is.EqualTo(inputs[i].Shape), $"gradient {i} shape");
            var numeric = new double[values[i].Length];
            for (var k = 0; k < numeric.Length; k++)
            {
                const double h = 1e-3;
                var orig = values[i][k];
                values[i][k] = orig + h;
                var up = s.Run(loss, FeedNow()).ToScalar<double>();
                values[i][k] = orig - h;
                var down = s.Run(loss, FeedNow()).ToScalar<double>();
                values[i][k] = orig;
                numeric[k] = (up - down) / (2 * h);
            }
            OpHarness.AssertClose(numeric, analytic[i].ToDoubleArray(), 1e-8, 1e-8, $"gradient {i} with unknown dims");
        }
    }

    /// <summary>Asserts that <paramref name="action"/> throws <typeparamref name="T"/> whose message contains every fragment (op type, node name, shapes).</summary>
    public static T Fails<T>(Action action, params string[] fragments) where T : Exception
    {
        var ex = Assert.Throws<T>(action)!;
        foreach (var f in fragments) Assert.That(ex.Message, Does.Contain(f));
        return ex;
    }

    /// <summary>Builds a graph, then runs it with the given feeds: the way a run-time failure is provoked.</summary>
    public static void RunWith(Func<Graph, (Output Fetch, Dictionary<Output, Tensor> Feeds)> build)
    {
        var g = new Graph();
        var (y, feeds) = build(g);
        using var s = new Session(g);
        s.Run(y, feeds);
    }

    public static Shape Unknown(int rank) => new(Enumerable.Repeat(-1, rank).ToArray());

    public static Dictionary<Output, Tensor> Feeds(Output[] xs, Tensor[] values) =>
        xs.Select((x, i) => (x, values[i])).ToDictionary(p => p.x, p => p.Item2);

    // ---- naive references: every element addressed by its multi-index ----

    /// <summary>All multi-indices of a shape in row-major order (none for an empty shape; one, [], for a scalar).</summary>
    public static IEnumerable<int[]> Indices(int[] shape)
    {
        if (shape.Any(d => d == 0)) yield break;
        var idx = new int[shape.Length];
        while (true)
        {
            yield return (int[])idx.Clone();
            var d = shape.Length - 1;
            while (d >= 0 && ++idx[d] == shape[d]) idx[d--] = 0;
            if (d < 0) yield break;
        }
    }

    /// <summary>Element of a tensor at a multi-index, as float64.</summary>
    public static double At(Tensor t, int[] idx)
    {
        var flat = 0;
        for (var d = 0; d < idx.Length; d++) flat = flat * t.Shape[d] + idx[d];
        return t.ToDoubleArray()[flat];
    }

    /// <summary>A float64 tensor of <paramref name="shape"/> with element f(index).</summary>
    public static Tensor Make(int[] shape, Func<int[], double> f) =>
        new(Indices(shape).Select(f).ToArray(), shape, DType.Float64);

    /// <summary>0, 1, 2, … as float64 (distinct values make any misplaced element visible).</summary>
    public static Tensor Iota(int[] shape, double start = 0) => Make(shape, idx =>
    {
        var flat = 0;
        for (var d = 0; d < idx.Length; d++) flat = flat * shape[d] + idx[d];
        return start + flat;
    });

    /// <summary>A float64 vector holding NaN, ±Inf and ±0 between ordinary values.</summary>
    public static Tensor Specials(params int[] shape)
    {
        double[] pool = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0.0, -0.0, 1.5, -2.25];
        var n = new Shape(shape).Size;
        return new Tensor(Enumerable.Range(0, n).Select(i => pool[i % pool.Length]).ToArray(), shape, DType.Float64);
    }

    public static Tensor Ints(int[] values, params int[] shape) => Tensor.FromArray(values, shape.Length == 0 ? [values.Length] : shape);

    public static Tensor Concat(Tensor[] xs, int axis)
    {
        var rank = xs[0].Rank;
        axis = axis < 0 ? axis + rank : axis;
        var shape = xs[0].Shape.ToArray();
        shape[axis] = xs.Sum(x => x.Shape[axis]);
        return Make(shape, idx =>
        {
            var j = idx[axis];
            foreach (var x in xs)
            {
                if (j < x.Shape[axis]) { var local = (int[])idx.Clone(); local[axis] = j; return At(x, local); }
                j -= x.Shape[axis];
            }
            throw new InvalidOperationException("index past the concatenation");
        });
    }

    public static Tensor Slice(Tensor x, int[] begin, int[] size)
    {
        var shape = size.Select((z, k) => z < 0 ? x.Shape[k] - begin[k] : z).ToArray();
        return Make(shape, idx => At(x, idx.Select((v, k) => v + begin[k]).ToArray()));
    }

    public static Tensor Pad(Tensor x, int[,] p, double value)
    {
        var shape = Enumerable.Range(0, x.Rank).Select(k => x.Shape[k] + p[k, 0] + p[k, 1]).ToArray();
        return Make(shape, idx =>
        {
            var src = idx.Select((v, k) => v - p[k, 0]).ToArray();
            return src.Select((v, k) => v >= 0 && v < x.Shape[k]).All(b => b) ? At(x, src) : value;
        });
    }

    public static Tensor Tile(Tensor x, int[] m) =>
        Make(x.Shape.Select((d, k) => d * m[k]).ToArray(), idx => At(x, idx.Select((v, k) => v % x.Shape[k]).ToArray()));

    public static Tensor BroadcastTo(Tensor x, int[] shape) =>
        Make(shape, idx => At(x, Enumerable.Range(0, x.Rank).Select(k => x.Shape[k] == 1 ? 0 : idx[k + shape.Length - x.Rank]).ToArray()));

    public static Tensor Transpose(Tensor x, int[] perm) =>
        Make(perm.Select(p => x.Shape[p]).ToArray(), idx =>
        {
            var src = new int[perm.Length];
            for (var k = 0; k < perm.Length; k++) src[perm[k]] = idx[k];
            return At(x, src);
        });

    public static Tensor Gather(Tensor p, Tensor indices, int axis)
    {
        axis = axis < 0 ? axis + p.Rank : axis;
        var ir = indices.Rank;
        int[] shape = [.. p.Shape.Take(axis), .. indices.Shape, .. p.Shape.Skip(axis + 1)];
        return Make(shape, idx =>
        {
            var which = (int)At(indices, idx.Skip(axis).Take(ir).ToArray());
            return At(p, [.. idx.Take(axis), which, .. idx.Skip(axis + ir)]);
        });
    }

    /// <summary>Same data, new shape (row-major order is unchanged by a reshape).</summary>
    public static Tensor Reshaped(Tensor x, params int[] shape) => new(x.ToDoubleArray(), shape, DType.Float64);
}
